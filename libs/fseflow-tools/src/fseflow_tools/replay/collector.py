"""Reads the pipeline's output topics for one world: what a replay (or a test) observes.

It is a plain subscriber: it reads every partition, keeps the records of its world, dedupes on
event ids (delivery is at least once), and tracks DayMarks so that the replay knows when a day
has gone through a topic completely.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from google.protobuf.message import Message

from fseflow.business_clock import DayMarkTracker
from fseflow.codec import DecodeError, decode
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.kafka.base import InRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import TopicSpec
from fseflow_tools.topic_reader import TopicReader

log = logging.getLogger(__name__)


@dataclass
class Observed:
    """Everything seen on one topic for one world, first occurrence of each event id."""

    messages: list[Message] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)


class Collector(TopicReader):
    def __init__(
        self,
        kafka: KafkaFactory,
        specs: Sequence[TopicSpec],
        *,
        world: str,
        start_from: str = "beginning",
    ) -> None:
        consumer = kafka.consumer(list(specs), group_id=None, assign_all_from=start_from)
        super().__init__(consumer, name=f"collector-{world}", max_records=5000)
        self.world = world
        self._names = kafka.names
        self._specs = {kafka.names(spec): spec for spec in specs}
        self._partitions.update({name: set() for name in self._specs})
        self.observed: dict[str, Observed] = {name: Observed() for name in self._specs}
        self.marks = DayMarkTracker()
        self._changed = asyncio.Condition()
        self.undecodable = 0
        self.records_read = 0  # records fetched, this world's or not

    def topic(self, spec: TopicSpec) -> Observed:
        return self.observed[self._names(spec)]

    async def _take(self, records: list[InRecord]) -> None:
        self.records_read += len(records)
        for record in records:
            try:
                envelope = decode(record, self._specs[record.topic])
            except DecodeError:
                self.undecodable += 1
                continue
            message = envelope.message
            if world_of(message) != self.world:
                continue
            if isinstance(message, DayMark):
                self.marks.observe(record.topic, record.partition, message)
                continue
            observed = self.observed[record.topic]
            if envelope.event_id not in observed.event_ids:
                observed.event_ids.add(envelope.event_id)
                observed.messages.append(message)
        async with self._changed:
            self._changed.notify_all()

    def day_complete(self, day: str, specs: Sequence[TopicSpec]) -> bool:
        return all(
            self.marks.complete(self.world, day, name, self._partitions[name])
            for name in (self._names(spec) for spec in specs)
        )

    async def wait_day(self, day: str, specs: Sequence[TopicSpec], within_s: float) -> None:
        """Until every partition of every topic of ``specs`` has closed ``day``."""
        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.day_complete(day, specs)), within_s
                )
        except TimeoutError:
            raise TimeoutError(
                f"day {day} did not go through within {within_s:.0f}s; partitions still open: "
                + ", ".join(self._open(day, specs))
            ) from None

    def _open(self, day: str, specs: Sequence[TopicSpec]) -> list[str]:
        return [
            f"{self._names(spec)}[{p}]"
            for spec in specs
            for p in sorted(self._partitions[self._names(spec)])
            if not self.marks.complete(self.world, day, self._names(spec), [p])
        ]

    async def wait_until(self, predicate: Callable[[], bool], within_s: float) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), within_s)


def world_of(message: Message) -> str | None:
    """The world a record belongs to: its own ``world`` field, or the first one found in its
    sub-messages (ArlIssued.arl.world, DocumentStored.document.metadata.world)."""
    world = getattr(message, "world", None)
    if isinstance(world, str):
        return world
    for _field, value in message.ListFields():
        if isinstance(value, Message):
            found = world_of(value)
            if found is not None:
                return found
    return None
