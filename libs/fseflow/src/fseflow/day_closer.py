"""The day-close loop of the stages that close business days in PostgreSQL (pointage, relances).

Each complete day (its DayMarks reached every input partition, `fseflow.day_book`) is closed in
order, in one transaction under the stage's per-world advisory lock, so that replicas and
restarts close it exactly once; the records it queued in the outbox are published after commit.
A stage says what closing a day means (``close_day``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

import asyncpg
from opentelemetry import trace

from fseflow import day_book
from fseflow.business_clock import ClockFollower
from fseflow.db import Conn
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.telemetry.metrics import DAY_CLOSE_LATE_SECONDS, LATE_WORLDS
from fseflow.topics import caisse_topics

log = logging.getLogger(__name__)
_TRACER = trace.get_tracer(__name__)


class DayCloseFailed(RuntimeError):
    """Closing a day failed (database, broker, a bug): retried, never dead-lettered."""


class DayCloser(ABC):
    stage: ClassVar[str]  # the advisory lock's name and the logs'
    marks_table: ClassVar[str]  # qualified tables of `fseflow.day_book`
    closed_table: ClassVar[str]

    def __init__(
        self, pool: asyncpg.Pool, relay: OutboxRelay, kafka: KafkaFactory, inputs: dict[str, int]
    ) -> None:
        self.pool = pool
        self.relay = relay
        self.kafka = kafka
        # physical input topic -> partitions: a day is complete once all have its marks
        self.inputs = inputs
        self._caisse_topics_ready: set[str] = set()

    async def close_ready_days(self, world: str) -> list[date]:
        """Close every complete day of ``world``, in order. A failure is the stage's, never a
        record's: it is raised as DayCloseFailed, which the stream processor retries with
        backoff instead of dead-lettering the DayMarks that happened to trigger the close."""
        try:
            return await self._close_ready_days(world)
        except Exception as exc:
            raise DayCloseFailed(f"{self.stage}: closing a day of world {world}: {exc!r}") from exc

    async def _close_ready_days(self, world: str) -> list[date]:
        closed = []
        while True:
            with _TRACER.start_as_current_span(f"{self.stage} close day", attributes={"world": world}):
                async with self.pool.acquire() as conn, conn.transaction():
                    await day_book.lock_world(conn, self.stage, world)
                    day = await day_book.next_complete_day(
                        conn, self.marks_table, self.closed_table, world, self.inputs
                    )
                    if day is None:
                        await day_book.forget_marks_of_closed_days(
                            conn, self.marks_table, self.closed_table, world
                        )
                        break
                    summary = await self.close_day(conn, world, day)
            closed.append(day)
            await self.relay.flush()
            log.info("world %s: %s closed %s: %s", world, self.stage, day, summary)
        return closed

    async def ensure_caisse_topics(self, organisms: Iterable[str]) -> None:
        """Create the caisse topics of organisms met for the first time (once per process)."""
        missing = [o for o in organisms if o not in self._caisse_topics_ready]
        if missing:
            await self.kafka.ensure_topics([spec for o in missing for spec in caisse_topics(o)])
            self._caisse_topics_ready.update(missing)

    @abstractmethod
    async def close_day(self, conn: Conn, world: str, day: date) -> object:
        """Do the stage's work for ``day`` inside the caller's transaction; return a summary for
        the log."""


@dataclass(frozen=True)
class LateDay:
    world: str
    day: date  # the first day the clock closed that this stage has not
    late_s: float  # since the clock's last closure of the world reached this process
    missing: list[str]  # input partitions whose marks of ``day`` are incomplete


class DayCloseWatch:
    """Says when a day the clock closed stays open at this stage for longer than ``late_after_s``:
    not ready, a metric, and one log line per late day naming the input partitions whose
    DayMarks are missing (which upstream stage or partition holds it up)."""

    def __init__(
        self,
        closer: DayCloser,
        clock: ClockFollower,
        *,
        service: str,
        late_after_s: float,
        interval_s: float = 5.0,
    ) -> None:
        self.closer = closer
        self.clock = clock
        self.late_after_s = late_after_s
        self.interval_s = interval_s
        self.late: list[LateDay] = []
        self._reported: set[tuple[str, date]] = set()
        self._stop = asyncio.Event()
        self._late_worlds = LATE_WORLDS.labels(service)
        self._late_seconds = DAY_CLOSE_LATE_SECONDS.labels(service)

    def request_stop(self) -> None:
        self._stop.set()

    def readiness(self) -> str | None:
        if not self.late:
            return None
        worst = max(self.late, key=lambda d: d.late_s)
        return (
            f"{len(self.late)} world(s) with a day closed on the clock but not here; "
            f"world {worst.world} day {worst.day} for {worst.late_s:.0f}s, "
            f"marks missing on {', '.join(worst.missing) or 'no partition (closing)'}"
        )

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.check()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("day-close watch: cannot check (%r)", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)

    async def check(self) -> list[LateDay]:
        now = time.monotonic()
        overdue = {
            world: (day, now - learned)
            for world, (day, learned) in self.clock.closures().items()
            if now - learned >= self.late_after_s
        }
        late: list[LateDay] = []
        if overdue:
            async with self.closer.pool.acquire() as conn:
                closed = await day_book.last_closed_days(conn, self.closer.closed_table, list(overdue))
                for world, (clock_day, late_s) in sorted(overdue.items()):
                    here = closed.get(world)
                    if here is not None and here >= clock_day:
                        continue
                    day = await day_book.first_open_day(
                        conn, self.closer.marks_table, self.closer.closed_table, world
                    )
                    day = day or clock_day
                    missing = await day_book.missing_marks(
                        conn, self.closer.marks_table, world, day, self.closer.inputs
                    )
                    late.append(LateDay(world, day, late_s, missing))
        for item in late:
            if (item.world, item.day) not in self._reported:
                self._reported.add((item.world, item.day))
                log.warning(
                    "world %s: the clock closed %s %.0fs ago, %s has not closed %s; DayMarks missing on: %s",
                    item.world,
                    self.clock.last_closed(item.world),
                    item.late_s,
                    self.closer.stage,
                    item.day,
                    ", ".join(item.missing) or "none (the close itself is failing)",
                )
        self.late = late
        self._late_worlds.set(len(late))
        self._late_seconds.set(max((d.late_s for d in late), default=0.0))
        return late
