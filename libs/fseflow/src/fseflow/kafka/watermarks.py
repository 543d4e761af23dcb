"""Reading a topic to its end and measuring its size, from the watermarks of fetch responses.

Tansu's ListOffsets is unreliable: for the latest offset it answered 199,972 for a partition
holding 200,000 records (short by the last record batch), and 1 for one holding 7. Every fetch
response, on the other hand, carries the partition's true high-water mark and log start offset,
which librdkafka caches (``get_watermark_offsets(cached=True)``). So both readers here fetch, and
trust only what fetches say; ListOffsets is used at most as a starting point (D47).

Blocking code (librdkafka): call it from a thread in async code.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import confluent_kafka

from fseflow.kafka.base import InRecord

_UNKNOWN = confluent_kafka.OFFSET_INVALID


def _partitions(consumer: confluent_kafka.Consumer, topic: str) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=10.0).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise LookupError(f"topic {topic!r} does not exist")
    return sorted(metadata.partitions)


def reader_group_id(config: dict[str, Any], purpose: str) -> str:
    """librdkafka wants a group id even for assign(); nothing is ever committed. Named after the
    client so that a service's ACLs cover it (``acl.consumer_groups``): on Apache Kafka a group the
    client may not describe is refused at FindCoordinator."""
    return f"{config.get('client.id', 'fseflow')}-reader-{purpose}-{uuid.uuid4().hex[:8]}"


def _reader(config: dict[str, Any], purpose: str, **extra: Any) -> confluent_kafka.Consumer:
    return confluent_kafka.Consumer(
        {
            **config,
            "group.id": reader_group_id(config, purpose),
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            **extra,
        }
    )


class NotReadToEnd(TimeoutError):
    """A partition could not be read up to its high-water mark in time."""


def read_to_end(config: dict[str, Any], topic: str, *, timeout_s: float = 60.0) -> Iterator[InRecord]:
    """Every record of ``topic`` from the beginning up to the end each partition had when its
    first fetch answered; records written after that are not returned, so a caller that writes
    what it read back into the topic never reads its own writes."""
    consumer = _reader(config, "reader", **{"enable.partition.eof": True, "fetch.wait.max.ms": 100})
    try:
        partitions = _partitions(consumer, topic)
        consumer.assign(
            [confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in partitions]
        )
        ends: dict[int, int] = {}  # partition -> high-water mark at its first fetch
        positions: dict[int, int] = {}  # partition -> next offset to read
        deadline = time.monotonic() + timeout_s
        while True:
            for p in partitions:
                if p in ends:
                    continue
                low, high = consumer.get_watermark_offsets(
                    confluent_kafka.TopicPartition(topic, p), cached=True
                )
                if high != _UNKNOWN:
                    ends[p] = high
                    positions.setdefault(p, max(low, 0))
            if len(ends) == len(partitions) and all(positions[p] >= ends[p] for p in partitions):
                return
            if time.monotonic() > deadline:
                behind = [
                    f"[{p}] at {positions.get(p, '?')} of {ends.get(p, '?')}"
                    for p in partitions
                    if p not in ends or positions[p] < ends[p]
                ]
                raise NotReadToEnd(f"{topic}: not read to its end in {timeout_s:.0f}s: {', '.join(behind)}")
            for message in consumer.consume(5000, 0.1):
                p = message.partition()
                error = message.error()
                if error is not None:
                    if error.code() == confluent_kafka.KafkaError._PARTITION_EOF:
                        # Caught up: the offset of the end now, at or after the first one.
                        positions[p] = max(positions.get(p, 0), message.offset())
                        continue
                    raise confluent_kafka.KafkaException(error)
                offset = message.offset()
                positions[p] = offset + 1
                if p not in ends:
                    # The first fetch answered between the watermark check and now.
                    ends[p] = consumer.get_watermark_offsets(
                        confluent_kafka.TopicPartition(topic, p), cached=True
                    )[1]
                if offset < ends[p]:
                    yield InRecord(
                        topic,
                        p,
                        offset,
                        message.key(),
                        message.value() or b"",
                        message.headers() or [],
                        message.timestamp()[1],
                    )
    finally:
        consumer.close()


class TopicDepth:
    """How many records a topic holds: Σ (high-water mark − log start offset) of its partitions.

    A consumer stays assigned at the end of every partition, so the broker's fetch responses keep
    its cached watermarks current; the records it reads (only those written since it started, at
    most a record batch more on Tansu) are dropped. It starts where ListOffsets says the end is: a
    wrong answer only makes it read a little more (or from the beginning, once, when out of
    range). Reading the whole topic at every measure would cost as much as the topic is large.
    """

    def __init__(self, config: dict[str, Any], topic: str) -> None:
        self._config = config
        self.topic = topic
        self._consumer: confluent_kafka.Consumer | None = None
        self._partitions: list[int] = []

    def _open(self) -> confluent_kafka.Consumer:
        consumer = _reader(
            self._config,
            "depth",
            # One small fetch per second at the tail; at most 1 MB of new records queued between
            # two measures (a flood of dead letters is dropped from the queue, not kept).
            **{"fetch.wait.max.ms": 1000, "queued.max.messages.kbytes": 1024},
        )
        try:
            self._partitions = _partitions(consumer, self.topic)
            starts = []
            for p in self._partitions:
                tp = confluent_kafka.TopicPartition(self.topic, p)
                high = consumer.get_watermark_offsets(tp, timeout=10.0, cached=False)[1]
                tp.offset = high if high >= 0 else confluent_kafka.OFFSET_BEGINNING
                starts.append(tp)
            consumer.assign(starts)
        except Exception:
            consumer.close()
            raise
        return consumer

    def measure(self) -> int | None:
        """Records in the topic as of the last fetch responses; None until every partition was
        fetched once."""
        marks = self.watermarks()
        if marks is None:
            return None
        return sum(high - max(low, 0) for low, high in marks.values())

    def watermarks(self) -> dict[int, tuple[int, int]] | None:
        """Each partition's (log start offset, high-water mark) as of the last fetch responses;
        None until every partition was fetched once (the load tool's lag sampler reads them)."""
        if self._consumer is None:
            self._consumer = self._open()
        consumer = self._consumer
        # Drop what was fetched since the last measure, so that fetching goes on.
        for _ in range(100):
            if not consumer.consume(10_000, 0):
                break
        marks = {}
        for p in self._partitions:
            low, high = consumer.get_watermark_offsets(
                confluent_kafka.TopicPartition(self.topic, p), cached=True
            )
            if high == _UNKNOWN:
                return None
            marks[p] = (low, high)
        return marks

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
