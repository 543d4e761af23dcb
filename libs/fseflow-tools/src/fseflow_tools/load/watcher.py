"""Reads what the pipeline publishes for the run's world: the verdicts, and the day closes.

- ``cti.fse-classified``: each FSE of the world counted once (at-least-once delivery) into the
  window it arrived in, with receipt (ingest's clock, ``received_at_ms``) -> classified (this
  reader's clock) in the window's end-to-end histogram: same host, or clocks kept in step. Of
  that, the part after national-check produced the verdict (the record's CreateTime -> read)
  goes in the read-delay histogram, so a slow reader or broker is told from a slow pipeline.
- DayMarks on ``cti.fse-classified`` and ``pointage.settlements``: the wall instant each business
  day was complete at the national check and at the pôle (its day close done), so a day's close
  takes "sent DayClosed -> pôle closed" of wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fseflow.business_clock import DayMarkTracker
from fseflow.codec import H_TYPE
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.kafka.base import InRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import FSE_CLASSIFIED, SETTLEMENTS
from fseflow_tools.load import windows as w
from fseflow_tools.topic_reader import TopicReader

DAY_MARK_TYPE = DayMark.DESCRIPTOR.full_name.encode()


class PipelineWatcher(TopicReader):
    def __init__(
        self,
        kafka: KafkaFactory,
        world: str,
        read_from: str,
        record: Callable[[float, str, float | None, float | None], None],
    ) -> None:
        """``record(instant, key, latency_s, read_delay_s)`` puts one event in the run's windows:
        the key ``classified`` with its end-to-end latency and the read delay within it."""
        self.world = world
        self._world_bytes = world.encode()
        self._classified_topic = kafka.names(FSE_CLASSIFIED)
        self._settlements_topic = kafka.names(SETTLEMENTS)
        consumer = kafka.consumer([FSE_CLASSIFIED, SETTLEMENTS], group_id=None, assign_all_from=read_from)
        super().__init__(consumer, name=f"load-watcher-{world}", max_records=10_000)
        self._record = record
        self._partitions.update({self._classified_topic: set(), self._settlements_topic: set()})
        self.seen: set[str] = set()
        self.marks = DayMarkTracker()
        # day (YYYY-MM-DD) -> monotonic instant it was complete, per topic
        self.classified_closed: dict[str, float] = {}
        self.pole_closed: dict[str, float] = {}

    async def _take(self, records: list[InRecord]) -> None:
        now_wall = time.time()
        now = time.monotonic()
        for record in records:
            # Cheap pre-filter: the world is the first field of both message types.
            if self._world_bytes not in record.value[:80]:
                continue
            if record.header(H_TYPE) == DAY_MARK_TYPE:
                self._mark(record, now)
            elif record.topic == self._classified_topic:
                self._classified(record.value, record.timestamp_ms, now, now_wall)

    def _classified(self, value: bytes, produced_ms: int, now: float, now_wall: float) -> None:
        message = FseClassified.FromString(value)
        if message.world != self.world or message.fse_id in self.seen:
            return
        self.seen.add(message.fse_id)
        latency = max(0.0, now_wall - message.received_at_ms / 1000) if message.received_at_ms else None
        read_delay = max(0.0, now_wall - produced_ms / 1000) if produced_ms > 0 else None
        self._record(now, w.CLASSIFIED, latency, read_delay)

    def _mark(self, record: Any, now: float) -> None:
        mark = DayMark.FromString(record.value)
        if mark.world != self.world:
            return
        if not self.marks.observe(record.topic, record.partition, mark):
            return
        closed = self.classified_closed if record.topic == self._classified_topic else self.pole_closed
        if mark.day not in closed and self.marks.complete(
            self.world, mark.day, record.topic, self._partitions.get(record.topic, ())
        ):
            closed[mark.day] = now

    @property
    def classified(self) -> int:
        return len(self.seen)

    async def wait_classified(self, count: int, within_s: float) -> bool:
        """Until ``count`` FSE of the world were classified; False when time ran out."""
        deadline = time.monotonic() + within_s
        while self.classified < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True

    async def wait_pole_closed(self, days: list[str], within_s: float) -> bool:
        """Until the pôle has closed every one of ``days``; False when time ran out."""
        deadline = time.monotonic() + within_s
        while any(day not in self.pole_closed for day in days):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True
