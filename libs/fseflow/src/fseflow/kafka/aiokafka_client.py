"""aiokafka behind the adapter (pure asyncio; measured slower here, kept for comparison)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import aiokafka
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.partitioner import murmur2

from fseflow.kafka.base import DeliveryFailed, InRecord, OutRecord, TopicPartition
from fseflow.kafka.continuity import OffsetContinuity

log = logging.getLogger(__name__)


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The partition Java, librdkafka (murmur2_random) and aiokafka all pick for a key."""
    return int((murmur2(key) & 0x7FFFFFFF) % partitions)


class AiokafkaProducer:
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._producer: aiokafka.AIOKafkaProducer | None = None
        self._partitions: dict[str, int] = {}

    async def start(self) -> None:
        self._producer = aiokafka.AIOKafkaProducer(**self._config)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def partition_count(self, topic: str) -> int:
        if topic not in self._partitions:
            assert self._producer is not None
            partitions = await self._producer.partitions_for(topic)
            if not partitions:
                raise LookupError(f"topic {topic!r} does not exist")
            self._partitions[topic] = len(partitions)
        return self._partitions[topic]

    async def send(self, records: Sequence[OutRecord]) -> None:
        await (await self.enqueue(records))

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        # One batch per partition (create_batch/send_batch): about twice the throughput of a
        # send() per record in the measurements behind docs/decisions.md.
        if not records:
            return asyncio.sleep(0)
        producer = self._producer
        assert producer is not None
        by_partition: dict[tuple[str, int], list[OutRecord]] = defaultdict(list)
        for record in records:
            partition = record.partition
            if partition is None:
                count = await self.partition_count(record.topic)
                partition = murmur2_partition(record.key or b"", count)
            by_partition[(record.topic, partition)].append(record)
        sends = []
        for (topic, partition), group in by_partition.items():
            batch = producer.create_batch()
            for record in group:
                if (
                    batch.append(
                        key=record.key,
                        value=record.value,
                        timestamp=None,
                        headers=record.headers or [],
                    )
                    is None
                ):
                    sends.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    batch.append(
                        key=record.key,
                        value=record.value,
                        timestamp=None,
                        headers=record.headers or [],
                    )
            sends.append(await producer.send_batch(batch, topic, partition=partition))
        return _delivered(sends)


async def _delivered(sends: list[Any]) -> None:
    try:
        await asyncio.gather(*sends)
    except Exception as exc:  # every client error is a failed delivery here
        raise DeliveryFailed(str(exc)) from exc


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: AiokafkaConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        gone = {TopicPartition(tp.topic, tp.partition) for tp in revoked}
        self._owner._revoked_at = time.monotonic()
        self._owner._continuity.forget(gone)
        self._owner._assignment = self._owner._assignment - gone

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._owner._assignment = frozenset(TopicPartition(tp.topic, tp.partition) for tp in assigned)
        self._owner._revoked_at = None
        self._owner._continuity.forget(self._owner._assignment)
        self._owner._joined = True  # even with nothing assigned: a spare member is a ready one
        log.info("partitions assigned: %s", sorted(self._owner._assignment))


class AiokafkaConsumer:
    def __init__(
        self, config: dict[str, Any], topics: Sequence[str], *, assign_all_from: str | None = None
    ) -> None:
        self._config = config
        self._topics = list(topics)
        self._assign_from = assign_all_from
        self._consumer: aiokafka.AIOKafkaConsumer | None = None
        self._assignment: frozenset[TopicPartition] = frozenset()
        self._joined = False
        self._continuity = OffsetContinuity(str(config.get("client_id", "")))
        self._revoked_at: float | None = None

    async def start(self) -> None:
        if self._assign_from is None:
            self._consumer = aiokafka.AIOKafkaConsumer(**self._config)
            await self._consumer.start()
            self._consumer.subscribe(self._topics, listener=_Listener(self))
            return
        config = {k: v for k, v in self._config.items() if k != "group_id"}
        self._consumer = aiokafka.AIOKafkaConsumer(**config)
        await self._consumer.start()
        partitions = []
        for topic in self._topics:
            found = self._consumer.partitions_for_topic(topic)
            if not found:
                await self._consumer._client.force_metadata_update()
                found = self._consumer.partitions_for_topic(topic)
            if not found:
                raise LookupError(f"topic {topic!r} does not exist")
            partitions += [aiokafka.TopicPartition(topic, p) for p in sorted(found)]
        self._consumer.assign(partitions)
        if self._assign_from == "beginning":
            await self._consumer.seek_to_beginning(*partitions)
        else:
            await self._consumer.seek_to_end(*partitions)
            for tp in partitions:
                await self._consumer.position(tp)  # resolve now, not at the first fetch
        self._assignment = frozenset(TopicPartition(p.topic, p.partition) for p in partitions)
        self._joined = True

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def poll_batch(self, max_records: int, timeout_s: float) -> list[InRecord]:
        assert self._consumer is not None
        fetched = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        records: list[InRecord] = []
        for tp, messages in fetched.items():
            for m in messages:
                records.append(
                    InRecord(
                        tp.topic,
                        tp.partition,
                        m.offset,
                        m.key,
                        m.value or b"",
                        list(m.headers or ()),
                        m.timestamp,
                    )
                )
        checked = self._continuity.check(records)
        for tp, offset in checked.refetch.items():
            self._consumer.seek(aiokafka.TopicPartition(tp.topic, tp.partition), offset)
        return checked.records

    async def commit(self, offsets: Mapping[TopicPartition, int], *, asynchronous: bool = False) -> None:
        # aiokafka has no fire-and-forget commit: always wait.
        if offsets:
            assert self._consumer is not None
            await self._consumer.commit(
                {aiokafka.TopicPartition(tp.topic, tp.partition): o for tp, o in offsets.items()}
            )

    def assignment(self) -> frozenset[TopicPartition]:
        return self._assignment

    def has_joined(self) -> bool:
        return self._joined

    def rejoining_for(self) -> float | None:
        return None if self._revoked_at is None else time.monotonic() - self._revoked_at

    def high_watermark(self, tp: TopicPartition) -> int | None:
        if self._consumer is None:
            return None
        value = self._consumer.highwater(aiokafka.TopicPartition(tp.topic, tp.partition))
        return None if value is None else int(value)
