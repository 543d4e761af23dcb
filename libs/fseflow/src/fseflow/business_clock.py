"""The business clock: closing days, relaying closures into data topics, and aligning them.

A closer (the replay, ``fseflow clock close``, a daily CronJob) writes ``DayClosed(world, D)`` to
the one-partition clock topic once every lot of day D has been acknowledged. Ingest relays each
closure as a ``DayMark`` into every partition of its output topics; every later stage forwards
a mark into every partition of its own outputs once it has written everything it read before
the mark in that input partition. A consumer knows D is complete in one of its partitions when
it has seen the marks of all the writing stage's source partitions (``DayMarkTracker``).
Duplicated marks (a replayed batch) are harmless: the tracker counts distinct sources.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import date

from google.protobuf.message import Message
from prometheus_client import Gauge

from fseflow.codec import Envelope, decode, encode, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayClosed, DayMark
from fseflow.kafka.base import Consumer, OutRecord
from fseflow.streams import HandlerResult
from fseflow.telemetry.metrics import LAST_CLOSED_DAY
from fseflow.topics import CLOCK, CLOCK_WRITER, TopicNames, caisse_kinds_of, caisse_topic
from fseflow.vocabulary.calendar import next_business_day, parse_day

log = logging.getLogger(__name__)


WORLD_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,80}\Z")


def checked_closure(closed: DayClosed) -> date:
    """The day a DayClosed closes; ValueError naming the field when it is not a closure."""
    if not WORLD_PATTERN.match(closed.world):
        raise ValueError(f"world: {closed.world[:80]!r} is not a world id ([A-Za-z0-9._-], 1-80)")
    try:
        return parse_day(closed.day)
    except ValueError as exc:
        raise ValueError(f"day: {exc}") from None


def checked_mark(mark: DayMark) -> date:
    """The day a DayMark closes; ValueError naming the field when it could close the wrong day
    or count a partition twice (a forged or damaged mark must not complete a day)."""
    if not WORLD_PATTERN.match(mark.world):
        raise ValueError(f"world: {mark.world[:80]!r} is not a world id ([A-Za-z0-9._-], 1-80)")
    if mark.source_partitions < 1:
        raise ValueError(f"source_partitions: {mark.source_partitions} is not a partition count")
    if not 0 <= mark.source_partition < mark.source_partitions:
        raise ValueError(
            f"source_partition: {mark.source_partition} is outside 0..{mark.source_partitions - 1}"
        )
    try:
        return parse_day(mark.day)
    except ValueError as exc:
        raise ValueError(f"day: {exc}") from None


def day_closed_record(topic: str, world: str, day: date) -> OutRecord:
    message = DayClosed(world=world, day=day.isoformat())
    return encode(
        message,
        topic=topic,
        event_id=event_id("day-closed", world, day.isoformat()),
        source=CLOCK_WRITER,
        key=world.encode(),
    )


def day_marks(
    *,
    topic: str,
    partitions: int,
    world: str,
    day: str,
    stage: str,
    source_partition: int,
    source_partitions: int,
) -> list[OutRecord]:
    """One DayMark per partition of ``topic`` for the given source partition."""
    mark = DayMark(
        world=world,
        day=day,
        stage=stage,
        source_partition=source_partition,
        source_partitions=source_partitions,
    )
    ident = event_id("day-mark", stage, world, day, str(source_partition))
    return [encode(mark, topic=topic, event_id=ident, source=stage, partition=p) for p in range(partitions)]


class DayMarkTracker:
    """Which source partitions' marks each (topic, partition) has seen, per world and day."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str, int], set[int]] = defaultdict(set)
        self._expected: dict[tuple[str, str, str, int], int] = {}

    def observe(self, topic: str, partition: int, mark: DayMark) -> bool:
        """Record a mark; True the first time the day becomes complete for this partition."""
        key = (mark.world, mark.day, topic, partition)
        seen = self._seen[key]
        before = len(seen) >= self._expected.get(key, 1 << 30)
        seen.add(mark.source_partition)
        self._expected[key] = mark.source_partitions
        return not before and len(seen) >= mark.source_partitions

    def complete(self, world: str, day: str, topic: str, partitions: Iterable[int]) -> bool:
        for partition in partitions:
            key = (world, day, topic, partition)
            expected = self._expected.get(key)
            if expected is None or len(self._seen[key]) < expected:
                return False
        return True


# What a stage does on a closed day before closing it on its outputs: the day's own records.
ClosureWork = Callable[[str, date], Awaitable[list[OutRecord]]]


class ClockRelay:
    """Turns each DayClosed of the clock topic into DayMarks on the stage's output topics.

    With ``on_closure`` (scor-store's purge and aids), the stage first does the day's work: its
    records go out first, the DayMarks only once they are acknowledged (they close them)."""

    def __init__(self, stage: str, outputs: dict[str, int], on_closure: ClosureWork | None = None) -> None:
        self.stage = stage
        # physical topic name -> partition count
        self.outputs = outputs
        self.on_closure = on_closure

    async def __call__(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        result = HandlerResult()
        for envelope in envelopes:
            closed = envelope.message
            if not isinstance(closed, DayClosed):
                continue
            day = checked_closure(closed)
            marks: list[OutRecord] = []
            for topic, partitions in self.outputs.items():
                marks += day_marks(
                    topic=topic,
                    partitions=partitions,
                    world=closed.world,
                    day=closed.day,
                    stage=self.stage,
                    source_partition=envelope.record.partition,
                    source_partitions=CLOCK.partition_count(1),
                )
            if self.on_closure is None:
                result.records += marks
            else:
                result.records += await self.on_closure(closed.world, day)
                result.after += marks
            log.info("relayed closure of %s for world %s", closed.day, closed.world)
        return result


class RecentWorlds:
    """A per-world gauge that keeps only the most recently updated worlds: each replay runs in a
    new world, and one series per world ever replayed would grow without end."""

    def __init__(self, gauge: Gauge, keep: int = 16) -> None:
        self._gauge = gauge
        self._keep = keep
        self._order: OrderedDict[str, None] = OrderedDict()

    def set(self, world: str, value: float) -> None:
        self._gauge.labels(world).set(value)
        self._order[world] = None
        self._order.move_to_end(world)
        while len(self._order) > self._keep:
            oldest, _ = self._order.popitem(last=False)
            self._gauge.remove(oldest)


class ClockFollower:
    """Reads the whole clock topic and keeps each world's last closed business day."""

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer
        self._last_closed: dict[str, date] = {}
        # When this process learned of each world's last closure (monotonic seconds).
        self._learned_at: dict[str, float] = {}
        self._stop = asyncio.Event()
        self.polled_once = False
        self._world_series = RecentWorlds(LAST_CLOSED_DAY)

    def last_closed(self, world: str) -> date | None:
        return self._last_closed.get(world)

    def closures(self) -> dict[str, tuple[date, float]]:
        """Each world's last closed day and when this process learned of it (monotonic)."""
        return {w: (d, self._learned_at[w]) for w, d in self._last_closed.items()}

    def open_day(self, world: str) -> date | None:
        """The business day now open in ``world``: the one after its last closure."""
        closed = self._last_closed.get(world)
        return None if closed is None else next_business_day(closed)

    def readiness(self) -> str | None:
        return None if self.polled_once else "clock: not read yet"

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await self._consumer.start()
        try:
            while not self._stop.is_set():
                records = await self._consumer.poll_batch(500, 0.2)
                for record in records:
                    try:
                        message = decode(record, CLOCK).message
                        day = checked_closure(message) if isinstance(message, DayClosed) else None
                    except ValueError as exc:
                        # Dead-lettered by the stages that relay the clock; skipped here.
                        log.error("clock record %d unreadable: %s", record.offset, exc)
                        continue
                    if isinstance(message, DayClosed) and day is not None:
                        previous = self._last_closed.get(message.world)
                        if previous is None or day > previous:
                            self._last_closed[message.world] = day
                            self._learned_at[message.world] = time.monotonic()
                            self._world_series.set(message.world, day.toordinal())
                self.polled_once = True
        finally:
            await self._consumer.stop()


def caisse_day_marks(
    names: TopicNames, writer: str, world: str, day: str, organisms: Iterable[str]
) -> list[OutRecord]:
    """``writer`` closed ``day``: a DayMark at the end of each caisse topic it writes (one
    partition each) for each organism, so that a caisse's subscribers know the day is complete."""
    return [
        record
        for organism in organisms
        for kind in caisse_kinds_of(writer)
        for record in day_marks(
            topic=names(caisse_topic(organism, kind)),
            partitions=1,
            world=world,
            day=day,
            stage=writer,
            source_partition=0,
            source_partitions=1,
        )
    ]
