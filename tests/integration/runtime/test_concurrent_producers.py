"""Several producers write one partition at once while consumers read it live: every consumer of
ours gets every acknowledged record, once, in order. On Tansu a plain librdkafka reader
sometimes does not (a fetch between two concurrent produces skips the earlier batch for good,
fseflow.kafka.continuity): the reason a business day once never closed."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import TopicSpec, scratch_topic
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration

PRODUCERS = 8
RECORDS_EACH = 4000
READERS = 3


def _produce(
    config: dict[str, Any], topic: str, producer_id: int, acked: list[bytes], lock: threading.Lock
) -> None:
    producer = Producer({**config, "linger.ms": 0, "enable.idempotence": False})

    def delivered(error: object, message: object) -> None:
        if error is None:
            with lock:
                acked.append(message.value())  # type: ignore[attr-defined]

    for i in range(RECORDS_EACH):
        producer.produce(topic, f"{producer_id}-{i}".encode(), partition=0, on_delivery=delivered)
        if i % 100 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def _raw_reader(config: dict[str, Any], topic: str, total: int, deadline: float, seen: set[bytes]) -> None:
    """librdkafka alone, for comparison: what a consumer without the gap check gets."""
    consumer = Consumer({**config, "group.id": "raw-reader", "fetch.wait.max.ms": 10})
    consumer.assign([KafkaTopicPartition(topic, 0, 0)])
    try:
        while len(seen) < total and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.05):
                if message.error() is None:
                    seen.add(message.value())
    finally:
        consumer.close()


async def _reader(kafka: KafkaFactory, spec: TopicSpec, total: int, deadline: float) -> list[bytes]:
    """Our consumer, reading live from the start until it has ``total`` records (bounded)."""
    consumer = kafka.consumer([spec], group_id=None, assign_all_from="beginning", fetch_max_wait_ms=10)
    await consumer.start()
    got: list[bytes] = []
    try:
        while len(got) < total and time.monotonic() < deadline:
            got += [r.value for r in await consumer.poll_batch(1000, 0.05)]
    finally:
        await consumer.stop()
    return got


async def test_live_consumers_get_every_record_written_by_concurrent_producers(running: RunningStack) -> None:
    kafka = running.kafka()
    spec = scratch_topic("concurrent-producers", "fseflow-tests")
    await kafka.ensure_topics([spec])
    topic = kafka.names(spec)
    bootstrap = running.client_config()
    total = PRODUCERS * RECORDS_EACH
    deadline = time.monotonic() + 120
    acked: list[bytes] = []
    lock = threading.Lock()
    raw_seen: list[set[bytes]] = [set() for _ in range(READERS)]
    raw_threads = [
        threading.Thread(target=_raw_reader, args=(bootstrap, topic, total, deadline, seen))
        for seen in raw_seen
    ]
    for thread in raw_threads:
        thread.start()
    # Reading live while the producers write: the race is between fetches and produces.
    readers = [asyncio.create_task(_reader(kafka, spec, total, deadline)) for _ in range(READERS)]
    await asyncio.gather(
        *(asyncio.to_thread(_produce, bootstrap, topic, i, acked, lock) for i in range(PRODUCERS))
    )
    assert len(acked) == total
    got = await asyncio.gather(*readers)
    for thread in raw_threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 5)
    raw_missing = [total - len(seen) for seen in raw_seen]
    for records in got:
        assert len(records) == len(set(records)), "a record delivered twice"
        missing = set(acked) - set(records)
        assert not missing, (
            f"{len(missing)} acknowledged records never reached a consumer "
            f"(plain librdkafka readers missed {raw_missing})"
        )
        for producer_id in range(PRODUCERS):
            own = [int(r.split(b"-")[1]) for r in records if r.startswith(f"{producer_id}-".encode())]
            assert own == sorted(own), "out of order"
