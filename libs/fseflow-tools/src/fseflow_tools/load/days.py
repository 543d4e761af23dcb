"""Closing the run's business days as it goes, so that delivery and payment happen during it.

A compressed day lasts 86400 / compress seconds of wall time. Business day d is closed once its
wall time is over *and* every lot intended in it has been answered (a closer writes
DayClosed(world, D) once every lot of D has been acknowledged: docs/architecture.md), or, so
that one lost answer cannot hold the pipeline's days forever, ``grace_s`` after its end. The
closure is the record ``fseflow clock close`` and the replay write (``day_closed_record``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from fseflow.business_clock import day_closed_record
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import CLOCK
from fseflow_tools.load.national import business_day
from fseflow_tools.load.profiles import Profile, Send

CloseDay = Callable[[date], Awaitable[None]]


def lots_by_day(profile: Profile, sends: list[Send]) -> Counter[int]:
    return Counter(profile.day_of(send.at) for send in sends)


def closable(
    elapsed_s: float,
    day_seconds: float,
    expected: Mapping[int, int],
    answered: Mapping[int, int],
    closed: int,
    grace_s: float,
    *,
    finished: bool = False,
) -> list[int]:
    """The days to close now, in order, after the ``closed`` first ones: a day whose wall time
    is over (or every day once the run has ``finished`` sending) and whose lots were all
    answered, or whose end is more than ``grace_s`` ago. Days close in order: one that must wait
    holds the later ones."""
    last = max(expected, default=-1)
    days = []
    for day in range(closed, last + 1):
        end = (day + 1) * day_seconds
        over = finished or elapsed_s >= end
        complete = answered.get(day, 0) >= expected.get(day, 0)
        if over and (complete or elapsed_s >= end + grace_s):
            days.append(day)
        else:
            break
    return days


@dataclass
class DayCloser:
    profile: Profile
    start: date  # the run's business day 0
    expected: dict[int, int]  # lots per run day
    close: CloseDay
    grace_s: float = 120.0
    answered: Counter[int] = field(default_factory=Counter)
    closed: int = 0  # days 0..closed-1 are closed
    closed_at: dict[str, float] = field(default_factory=dict)  # business day -> monotonic instant
    forced: list[str] = field(default_factory=list)  # closed by the grace time, answers missing

    def add_answered(self, by_day: Mapping[int, int]) -> None:
        self.answered.update(by_day)

    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def tick(self, elapsed_s: float, *, finished: bool = False) -> None:
        async with self._lock:  # the periodic tick and the final one never close a day twice
            await self._tick(elapsed_s, finished)

    async def _tick(self, elapsed_s: float, finished: bool) -> None:
        for day in closable(
            elapsed_s,
            self.profile.day_seconds,
            self.expected,
            self.answered,
            self.closed,
            self.grace_s,
            finished=finished,
        ):
            business = business_day(self.start, day)
            if self.answered.get(day, 0) < self.expected.get(day, 0):
                self.forced.append(business.isoformat())
            await self.close(business)
            self.closed_at[business.isoformat()] = time.monotonic()
            self.closed = day + 1

    @property
    def all_closed(self) -> bool:
        return self.closed > max(self.expected, default=-1)


class KafkaDayClose:
    """The closer's hook on a real broker: DayClosed(world, D) on the clock topic."""

    def __init__(self, kafka: KafkaFactory, world: str) -> None:
        self.kafka = kafka
        self.world = world
        self._producer = kafka.producer()
        self._topic = kafka.names(CLOCK)

    async def start(self) -> None:
        await self.kafka.ensure_topics([CLOCK])
        await self._producer.start()

    async def __call__(self, day: date) -> None:
        await self._producer.send([day_closed_record(self._topic, self.world, day)])

    async def stop(self) -> None:
        await self._producer.stop()


async def tick_until(closer: DayCloser, elapsed: Callable[[], float], done: asyncio.Event) -> None:
    """Tick every 200 ms until ``done``."""
    while not done.is_set():
        await closer.tick(elapsed())
        try:
            await asyncio.wait_for(done.wait(), 0.2)
        except TimeoutError:
            continue
