"""librdkafka (confluent-kafka) behind the adapter.

Each client gets one dedicated thread: the consumer's blocking calls run there one after the
other (librdkafka consumers must not be entered concurrently), and the producer's delivery
reports are served there. confluent-kafka's own ``aio.AIOProducer`` is not used because it
refuses headers, which carry our event ids and trace context.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import confluent_kafka

from fseflow.kafka.base import DeliveryFailed, InRecord, OutRecord, TopicPartition
from fseflow.kafka.continuity import OffsetContinuity

log = logging.getLogger(__name__)

_WATERMARK_UNKNOWN = confluent_kafka.OFFSET_INVALID


class _BatchDelivery:
    """Counts delivery reports of one batch; resolves its future on the event loop once."""

    __slots__ = ("_error", "_future", "_loop", "_pending")

    def __init__(self, count: int, future: asyncio.Future[None], loop: asyncio.AbstractEventLoop):
        self._pending = count
        self._future = future
        self._loop = loop
        self._error: str | None = None

    def on_delivery(self, error: Any, _message: Any) -> None:
        # Runs on the producer's poll thread, the only thread that serves callbacks.
        if error is not None and self._error is None:
            self._error = str(error)
        self._pending -= 1
        if self._pending == 0:
            self._loop.call_soon_threadsafe(self._resolve)

    def fail_remaining(self, count: int, reason: str) -> None:
        self._error = self._error or reason
        self._pending -= count
        if self._pending == 0:
            self._loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        if self._future.done():
            return
        if self._error is None:
            self._future.set_result(None)
        else:
            self._future.set_exception(DeliveryFailed(self._error))


class ConfluentProducer:
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config
        self._producer: confluent_kafka.Producer | None = None
        self._stopping = threading.Event()
        self._poller: threading.Thread | None = None
        self._partitions: dict[str, int] = {}

    async def start(self) -> None:
        self._producer = confluent_kafka.Producer(self._config)
        self._poller = threading.Thread(target=self._serve_callbacks, name="kafka-producer-poll")
        self._poller.daemon = True
        self._poller.start()

    def _serve_callbacks(self) -> None:
        assert self._producer is not None
        while not self._stopping.is_set():
            self._producer.poll(0.05)

    async def stop(self) -> None:
        if self._producer is None:
            return
        remaining = await asyncio.to_thread(self._producer.flush, 10.0)
        if remaining:
            log.error("producer stopped with %d undelivered records", remaining)
        self._stopping.set()
        if self._poller is not None:
            await asyncio.to_thread(self._poller.join, 2.0)
        self._producer = None

    async def send(self, records: Sequence[OutRecord]) -> None:
        await (await self.enqueue(records))

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not records:
            future.set_result(None)
            return future
        producer = self._producer
        assert producer is not None, "producer not started"
        delivery = _BatchDelivery(len(records), future, loop)
        callback = delivery.on_delivery
        for index, record in enumerate(records):
            while True:
                try:
                    if record.partition is None:
                        producer.produce(
                            record.topic,
                            record.value,
                            record.key,
                            headers=record.headers,
                            on_delivery=callback,
                        )
                    else:
                        producer.produce(
                            record.topic,
                            record.value,
                            record.key,
                            partition=record.partition,
                            headers=record.headers,
                            on_delivery=callback,
                        )
                    break
                except BufferError:
                    # Local queue full: let the poll thread drain delivery reports.
                    await asyncio.sleep(0.005)
                except confluent_kafka.KafkaException as exc:
                    delivery.fail_remaining(len(records) - index, str(exc))
                    return future
        return future

    async def partition_count(self, topic: str) -> int:
        if topic not in self._partitions:
            assert self._producer is not None
            metadata = await asyncio.to_thread(self._producer.list_topics, topic, 10.0)
            found = metadata.topics.get(topic)
            if found is None or found.error is not None or not found.partitions:
                raise LookupError(f"topic {topic!r} does not exist")
            self._partitions[topic] = len(found.partitions)
        return self._partitions[topic]


class ConfluentConsumer:
    """A group consumer (``group_id`` + subscribe) or a reader of whole topics (assign)."""

    def __init__(
        self,
        config: dict[str, Any],
        topics: Sequence[str],
        *,
        assign_all_from: str | None = None,
    ) -> None:
        self._config = config
        self._topics = list(topics)
        # None: subscribe as a group member. "beginning"/"end": assign every partition.
        self._assign_from = assign_all_from
        self._consumer: confluent_kafka.Consumer | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-consumer")
        self._assignment: frozenset[TopicPartition] = frozenset()
        self._joined = False
        self._watermarks: dict[TopicPartition, int] = {}
        self._continuity = OffsetContinuity(str(config.get("client.id", "")))
        self._revoked_at: float | None = None

    async def start(self) -> None:
        await self._run(self._start)

    def _start(self) -> None:
        consumer = confluent_kafka.Consumer(self._config)
        self._consumer = consumer
        if self._assign_from is None:
            consumer.subscribe(self._topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
            return
        partitions = []
        for topic in self._topics:
            metadata = consumer.list_topics(topic, timeout=10.0).topics.get(topic)
            if metadata is None or metadata.error is not None or not metadata.partitions:
                raise LookupError(f"topic {topic!r} does not exist")
            for p in sorted(metadata.partitions):
                tp = confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                if self._assign_from == "end":
                    # Resolved now, not at the first fetch, so nothing written after start()
                    # returns is skipped. (Not for Tansu: its ListOffsets is unreliable.)
                    tp.offset = consumer.get_watermark_offsets(tp, timeout=10.0, cached=False)[1]
                partitions.append(tp)
        consumer.assign(partitions)
        self._assignment = frozenset(TopicPartition(p.topic, p.partition) for p in partitions)
        self._joined = True

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self._joined = True  # even with nothing assigned: a spare member is a ready one
        assigned = {TopicPartition(p.topic, p.partition) for p in partitions}
        self._revoked_at = None
        self._continuity.forget(assigned)
        self._assignment = self._assignment | assigned
        log.info("partitions assigned: %s", sorted((p.topic, p.partition) for p in partitions))

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        revoked = {TopicPartition(p.topic, p.partition) for p in partitions}
        self._revoked_at = time.monotonic()
        self._continuity.forget(revoked)
        self._assignment = self._assignment - revoked
        log.info("partitions revoked: %s", sorted(revoked))

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._run(self._consumer.close)
            self._consumer = None
        self._thread.shutdown(wait=True)

    async def poll_batch(self, max_records: int, timeout_s: float) -> list[InRecord]:
        result: list[InRecord] = await self._run(self._poll, max_records, timeout_s)
        return result

    def _poll(self, max_records: int, timeout_s: float) -> list[InRecord]:
        consumer = self._consumer
        assert consumer is not None
        messages = consumer.consume(max_records, timeout_s)
        records: list[InRecord] = []
        append = records.append
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == confluent_kafka.KafkaError._PARTITION_EOF:
                    continue
                log.warning("consumer error: %s", error)
                continue
            append(
                InRecord(
                    message.topic(),
                    message.partition(),
                    message.offset(),
                    message.key(),
                    message.value() or b"",
                    message.headers() or [],
                    message.timestamp()[1],
                )
            )
        checked = self._continuity.check(records)
        for tp, offset in checked.refetch.items():
            consumer.seek(confluent_kafka.TopicPartition(tp.topic, tp.partition, offset))
        records = checked.records
        for tp in self._assignment:
            _low, high = consumer.get_watermark_offsets(
                confluent_kafka.TopicPartition(tp.topic, tp.partition), cached=True
            )
            if high != _WATERMARK_UNKNOWN:
                self._watermarks[tp] = high
        return records

    async def commit(self, offsets: Mapping[TopicPartition, int], *, asynchronous: bool = False) -> None:
        if not offsets:
            return
        partitions = [confluent_kafka.TopicPartition(tp.topic, tp.partition, o) for tp, o in offsets.items()]
        await self._run(self._commit, partitions, asynchronous)

    def _commit(self, partitions: list[Any], asynchronous: bool) -> None:
        assert self._consumer is not None
        self._consumer.commit(offsets=partitions, asynchronous=asynchronous)

    def assignment(self) -> frozenset[TopicPartition]:
        return self._assignment

    def has_joined(self) -> bool:
        return self._joined

    def high_watermark(self, tp: TopicPartition) -> int | None:
        return self._watermarks.get(tp)

    def rejoining_for(self) -> float | None:
        return None if self._revoked_at is None else time.monotonic() - self._revoked_at
