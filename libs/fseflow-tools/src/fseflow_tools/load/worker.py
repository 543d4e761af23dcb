"""One generator worker: a process with its slice of the schedule, its own gRPC channel, and
histograms it sends to the parent as encoded deltas once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc

from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow_tools.load import windows as w
from fseflow_tools.load.lots import LotFactory, WorldShape, build_world
from fseflow_tools.load.national import business_day
from fseflow_tools.load.openloop import OK, REFUSED, OpenLoop, Outcome
from fseflow_tools.load.profiles import Profile, Send, schedule, slice_of

FLUSH_EVERY_S = 1.0
# The parent lets the workers go once every one is ready (within generator.READY_WITHIN_S): a
# worker whose parent is gone gives up rather than wait forever.
GO_WITHIN_S = 300.0


@dataclass(frozen=True)
class WorkerPlan:
    worker: int
    workers: int
    target: str  # ingest's gRPC address, host:port
    profile: Profile
    shape: WorldShape
    world_id: str
    run_tag: str
    timeout_s: float = 30.0
    max_in_flight: int = 10_000
    drain_s: float = 60.0
    window_s: float = w.WINDOW_SECONDS


class WindowRecorder:
    """Counts and histograms per window, handed out as deltas (and reset) by ``flush``."""

    def __init__(self, start_at: float, profile: Profile, window_s: float = w.WINDOW_SECONDS) -> None:
        self.start_at = start_at
        self.profile = profile
        self.window_s = window_s
        self._counts: dict[int, Counter[str]] = {}
        self._histograms: dict[int, dict[str, Any]] = {}
        self.answered_by_day: Counter[int] = Counter()  # lots answered (any outcome), since flush

    def _window(self, instant: float) -> int:
        return w.window_of(instant - self.start_at, self.window_s)

    def _count(self, instant: float, key: str, n: int = 1) -> None:
        self._counts.setdefault(self._window(instant), Counter())[key] += n

    def _record(self, instant: float, name: str, seconds: float) -> None:
        histograms = self._histograms.setdefault(self._window(instant), {})
        if name not in histograms:
            histograms[name] = w.histogram()
        w.record(histograms[name], seconds * 1e6)

    def offered(self, send: Send, intended: float) -> None:
        self._count(intended, w.OFFERED_LOTS)
        self._count(intended, w.OFFERED_FSE, send.fse)

    def answered(self, outcome: Outcome) -> None:
        at = outcome.finished
        if outcome.status == OK:
            self._count(at, w.ACKED_LOTS)
            self._count(at, w.ACKED_FSE, outcome.send.fse)
        elif outcome.status == REFUSED:
            self._count(at, w.REFUSED_LOTS)
            self._count(at, w.REFUSED_FSE, outcome.send.fse)
        else:
            self._count(at, w.ERROR_PREFIX + outcome.status)
        self._record(at, w.PUBLISH, outcome.latency)
        self._record(at, w.PUBLISH_DELAY, max(outcome.delay, 0.0))
        self.answered_by_day[self.profile.day_of(outcome.send.at)] += 1

    def document(self, intended: float, finished: float, status: str) -> None:
        if status == OK:
            self._count(finished, w.DOCUMENTS_OK)
        else:
            self._count(finished, f"{w.ERROR_PREFIX}document:{status}")
        self._record(finished, w.DOCUMENT, finished - intended)

    def flush(self) -> tuple[list[w.Delta], dict[int, int]]:
        deltas = [
            w.Delta(
                index,
                self._counts.get(index, Counter()),
                {name: h.encode() for name, h in self._histograms.get(index, {}).items()},
            )
            for index in sorted({*self._counts, *self._histograms})
        ]
        answered = dict(self.answered_by_day)
        self._counts, self._histograms, self.answered_by_day = {}, {}, Counter()
        return deltas, answered


def run(plan: WorkerPlan, outbox: Any, go: Any, start_at: Any, stop: Any) -> None:
    """The process's entry point (multiprocessing, spawn): messages to ``outbox`` are
    ("ready", worker), ("delta", worker, deltas, answered_by_day), ("done", worker) or
    ("failed", worker, reason)."""
    try:
        asyncio.run(_run(plan, outbox, go, start_at, stop))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        outbox.put(("failed", plan.worker, f"{type(exc).__name__}: {exc}"))


async def _run(plan: WorkerPlan, outbox: Any, go: Any, start_at: Any, stop: Any) -> None:
    factory = LotFactory(build_world(plan.shape), plan.world_id, plan.run_tag, plan.shape)
    channel = grpc.aio.insecure_channel(plan.target)
    try:
        try:
            await asyncio.wait_for(channel.channel_ready(), 30)
        except TimeoutError:
            outbox.put(("failed", plan.worker, f"ingest at {plan.target} did not answer within 30s"))
            return
        outbox.put(("ready", plan.worker))
        if not await asyncio.to_thread(go.wait, GO_WITHIN_S):
            outbox.put(("failed", plan.worker, f"not told to start within {GO_WITHIN_S:.0f}s of ready"))
            return
        recorder = WindowRecorder(start_at.value, plan.profile, plan.window_s)
        sender = Sender(LotIngestServiceStub(channel), factory, plan, recorder)
        stopped = False

        def is_stopped() -> bool:
            return stopped

        async def flush_every_second() -> None:
            nonlocal stopped
            while True:
                await asyncio.sleep(FLUSH_EVERY_S)
                stopped = stopped or stop.is_set()
                outbox.put(("delta", plan.worker, *recorder.flush()))

        flusher = asyncio.create_task(flush_every_second())
        loop = OpenLoop(sender.submit, recorder, plan.max_in_flight, plan.drain_s, stopped=is_stopped)
        try:
            sends = slice_of(schedule(plan.profile, factory.size_of), plan.worker, plan.workers)
            await loop.run(sends, start_at.value)
            await sender.drain(plan.drain_s)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        outbox.put(("delta", plan.worker, *recorder.flush()))
        outbox.put(("done", plan.worker))
    finally:
        await channel.close()


class Sender:
    """SubmitLot for one send (its lot built just before), then its late documents."""

    def __init__(
        self, stub: LotIngestServiceStub, factory: LotFactory, plan: WorkerPlan, recorder: WindowRecorder
    ) -> None:
        self.stub = stub
        self.factory = factory
        self.plan = plan
        self.recorder = recorder
        self.start_day = plan.shape.start
        self._days: dict[int, date] = {}
        self._documents: set[asyncio.Task[None]] = set()

    def day(self, number: int) -> date:
        if number not in self._days:
            self._days[number] = business_day(self.start_day, number)
        return self._days[number]

    async def submit(self, send: Send) -> str:
        built = self.factory.build(send.index, self.day(self.plan.profile.day_of(send.at)))
        try:
            response = await self.stub.SubmitLot(built.request, timeout=self.plan.timeout_s)
        except grpc.aio.AioRpcError as exc:
            return str(exc.code().name)
        if not response.arl.positive:
            return REFUSED
        for stream in built.documents:
            task = asyncio.create_task(self._document(stream, time.monotonic()))
            self._documents.add(task)
            task.add_done_callback(self._documents.discard)
        return OK

    async def _document(self, stream: list[Any], intended: float) -> None:
        try:
            await self.stub.SubmitDocument(iter(stream), timeout=self.plan.timeout_s)
            status = OK
        except grpc.aio.AioRpcError as exc:
            status = str(exc.code().name)
        self.recorder.document(intended, time.monotonic(), status)

    async def drain(self, within_s: float) -> None:
        if self._documents:
            await asyncio.wait(set(self._documents), timeout=within_s)
