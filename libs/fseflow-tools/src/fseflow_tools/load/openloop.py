"""Sending on schedule without waiting for answers (open loop).

Each send is started at its intended instant, whatever the sends before it are doing; its
latency runs from that instant, so a stalled endpoint shows in every send intended during the
stall instead of in one slow call followed by silence (coordinated omission). A bound on the
calls in flight keeps memory finite: a send that waits for a slot starts late, and the delay is
in its latency and in its own "publish delay" figure, never hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from fseflow_tools.load.profiles import Send

OK = "OK"
REFUSED = "REFUSED"  # a negative ARL: answered, the lot refused
UNANSWERED = "UNANSWERED"  # still in flight when the run's drain time ran out


@dataclass(frozen=True)
class Outcome:
    send: Send
    intended: float  # monotonic instants
    started: float
    finished: float
    status: str  # OK, REFUSED, UNANSWERED or a gRPC status name

    @property
    def latency(self) -> float:
        return self.finished - self.intended

    @property
    def delay(self) -> float:
        return self.started - self.intended


class Recorder(Protocol):
    def offered(self, send: Send, intended: float) -> None: ...

    def answered(self, outcome: Outcome) -> None: ...


Submit = Callable[[Send], Awaitable[str]]


@dataclass
class OpenLoop:
    submit: Submit
    recorder: Recorder
    max_in_flight: int = 10_000
    drain_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    # Checked before each send: True stops the schedule (the knee was found, or interrupted).
    stopped: Callable[[], bool] = lambda: False

    async def run(self, sends: Iterable[Send], start_at: float) -> None:
        """Every send of ``sends`` at ``start_at + send.at``; then waits up to ``drain_s`` for
        the answers still due, and records the others as UNANSWERED."""
        slots = asyncio.Semaphore(self.max_in_flight)
        pending: dict[asyncio.Task[None], tuple[Send, float]] = {}
        behind = 0
        for send in sends:
            if self.stopped():
                break
            intended = start_at + send.at
            wait = intended - self.clock()
            if wait > 0:
                behind = 0
                await asyncio.sleep(wait)
            else:
                behind += 1
                if behind % 64 == 0:
                    await asyncio.sleep(0)  # late: send at once, but let the answers be read
            # At most max_in_flight calls out: a later send waits here (late, measured from its
            # intended instant) rather than as one more task — an overload (the national day at
            # 200x) once held millions of waiting tasks and GBs per worker.
            await slots.acquire()
            if self.stopped():
                slots.release()
                break
            self.recorder.offered(send, intended)
            task = asyncio.create_task(self._one(send, intended, slots))
            pending[task] = (send, intended)
            task.add_done_callback(lambda t: pending.pop(t, None))
        if pending:
            _done, late = await asyncio.wait(set(pending), timeout=self.drain_s)
            for task in late:
                send, intended = pending.pop(task)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                now = self.clock()
                self.recorder.answered(Outcome(send, intended, now, now, UNANSWERED))

    async def _one(self, send: Send, intended: float, slots: asyncio.Semaphore) -> None:
        try:
            started = self.clock()
            status = await self.submit(send)
            self.recorder.answered(Outcome(send, intended, started, self.clock(), status))
        finally:
            slots.release()
