"""Starts the worker processes, gives them one start instant, merges what they send.

Workers are spawned (not forked: gRPC's threads do not survive a fork). Each builds the world and
its channel, says it is ready; the parent then sets one start instant on the system-wide
monotonic clock (CLOCK_MONOTONIC is the same in every process of a host) and lets them go.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fseflow_tools.load import windows as w
from fseflow_tools.load.worker import WorkerPlan, run

READY_WITHIN_S = 120.0
# Past the schedule's end and the workers' drain time: how late the last send may still start
# (a generator at its ceiling sends behind schedule), before the run gives up on the workers.
LATE_S = 120.0


class GeneratorFailed(RuntimeError):
    """A worker could not start or died: one line saying which and why."""


def default_workers() -> int:
    """One per core, at least one, at most eight (more only adds context switches here)."""
    return max(1, min(8, os.cpu_count() or 1))


class Generator:
    def __init__(
        self,
        plan: WorkerPlan,
        workers: int,
        on_delta: Callable[[w.Delta], None],
        on_answered: Callable[[dict[int, int]], None] | None = None,
    ) -> None:
        self.plans = [replace(plan, worker=i, workers=workers) for i in range(workers)]
        self.on_delta = on_delta
        self.on_answered = on_answered
        context = multiprocessing.get_context("spawn")
        self._outbox: Any = context.Queue()
        self._go = context.Event()
        self._stop = context.Event()
        self._start_at: Any = context.Value("d", 0.0)
        self._processes = [
            context.Process(
                target=run,
                args=(p, self._outbox, self._go, self._start_at, self._stop),
                name=f"fseflow-load-{p.worker}",
                daemon=True,
            )
            for p in self.plans
        ]
        self.start_at = 0.0
        self.answered_by_day: Counter[int] = Counter()
        self._done: set[int] = set()
        # The schedule was stopped before its end because the workers fell too far behind it.
        self.cut_short = False

    async def start(self, lead_s: float = 0.5) -> float:
        """Start the workers, wait until every one is ready, let them go; the start instant."""
        for process in self._processes:
            process.start()
        ready: set[int] = set()
        deadline = time.monotonic() + READY_WITHIN_S
        while len(ready) < len(self._processes):
            if time.monotonic() > deadline:
                raise GeneratorFailed(
                    f"{len(ready)} of {len(self._processes)} workers ready in {READY_WITHIN_S:.0f}s"
                )
            message = await self._next(0.5)
            if message is None:
                continue
            if message[0] == "failed":
                raise GeneratorFailed(f"worker {message[1]}: {message[2]}")
            if message[0] == "ready":
                ready.add(message[1])
        self.start_at = time.monotonic() + lead_s
        self._start_at.value = self.start_at
        self._go.set()
        return self.start_at

    async def _next(self, within_s: float) -> tuple[Any, ...] | None:
        def get() -> tuple[Any, ...] | None:
            try:
                message: tuple[Any, ...] = self._outbox.get(timeout=within_s)
            except queue.Empty:
                return None
            return message

        return await asyncio.to_thread(get)

    def collect_within(self) -> float:
        """How long ``collect`` waits at most: the schedule, both drains (the lots' answers, the
        late documents) and ``LATE_S``."""
        plan = self.plans[0]
        return plan.profile.duration + 2 * plan.drain_s + LATE_S

    async def collect(self, within_s: float | None = None, grace_s: float | None = None) -> None:
        """Merge deltas until every worker is done; a failed or dead worker stops the run. Workers
        still running ``within_s`` (default ``collect_within``) after the start are told to send
        nothing more (``cut_short``) and given ``grace_s`` (default: their drain, a call's
        timeout and LATE_S) to finish; still running then, they stop the run."""
        deadline = time.monotonic() + (within_s if within_s is not None else self.collect_within())
        quiet_exits: set[int] = set()  # exited with status 0 and no "done" (yet) at one poll
        while len(self._done) < len(self._processes):
            if time.monotonic() > deadline and not self.cut_short:
                # Far behind its schedule (an overload): no more sends; the calls out get their
                # answers or count as unanswered, and the run reports what was measured.
                self.stop()
                self.cut_short = True
                plan = self.plans[0]
                deadline = time.monotonic() + (
                    grace_s if grace_s is not None else plan.drain_s + plan.timeout_s + LATE_S
                )
            elif time.monotonic() > deadline:
                running = [p.name for i, p in enumerate(self._processes) if i not in self._done]
                raise GeneratorFailed(f"{', '.join(running)} still running past the schedule and its drain")
            message = await self._next(0.5)
            if message is None:
                dead = [
                    f"{p.name} (exit code {p.exitcode})"
                    for i, p in enumerate(self._processes)
                    if i not in self._done and not p.is_alive() and p.exitcode not in (None, 0)
                ]
                # A worker that exited cleanly has put its "done" before: one empty poll after
                # its exit may still race it, two cannot.
                silent = {
                    i
                    for i, p in enumerate(self._processes)
                    if i not in self._done and not p.is_alive() and p.exitcode == 0
                }
                dead += [f"{self._processes[i].name} (exit code 0, never done)" for i in silent & quiet_exits]
                quiet_exits = silent
                if dead:
                    self.stop()
                    raise GeneratorFailed(f"{', '.join(dead)} died")
                continue
            kind = message[0]
            if kind == "delta":
                _, _worker, deltas, answered = message
                for delta in deltas:
                    self.on_delta(delta)
                self.answered_by_day.update(answered)
                if self.on_answered is not None:
                    self.on_answered(answered)
            elif kind == "done":
                self._done.add(message[1])
            elif kind == "failed":
                self.stop()
                raise GeneratorFailed(f"worker {message[1]}: {message[2]}")

    def stop(self) -> None:
        """Ask the workers to send nothing more (they still wait for the answers due)."""
        self._stop.set()

    async def close(self, within_s: float = 10.0) -> None:
        self._stop.set()
        self._go.set()
        for process in self._processes:
            if process.pid is None:
                continue
            await asyncio.to_thread(process.join, within_s)
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, 5)
        with contextlib.suppress(Exception):
            self._outbox.close()
