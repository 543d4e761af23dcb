"""The Kafka adapter's contract, for both clients behind it, against the real broker."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fseflow.kafka.aiokafka_client import murmur2_partition
from fseflow.kafka.base import InRecord, OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.settings import KafkaSettings
from fseflow.topics import scratch_topic
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration


def factory(running: RunningStack, client: str) -> KafkaFactory:
    settings = running.endpoints.kafka.model_copy(update={"kafka_client": client})
    assert isinstance(settings, KafkaSettings)
    return KafkaFactory(settings, f"contract-{client}")


async def drain(consumer: Any, count: int) -> list[InRecord]:
    records: list[InRecord] = []
    for _ in range(300):
        records += await consumer.poll_batch(1000, 0.05)
        if len(records) >= count:
            break
    return records


@pytest.mark.parametrize("client", ["confluent", "aiokafka"])
async def test_keys_headers_partitions_and_commits(running: RunningStack, client: str) -> None:
    kafka = factory(running, client)
    spec = scratch_topic("adapter-contract", "tests")
    counts = await kafka.ensure_topics([spec])
    topic = kafka.names(spec)
    partitions = spec.partition_count(kafka.settings.kafka_partitions)
    assert counts == {topic: partitions}
    assert await kafka.ensure_topics([spec]) == counts  # idempotent

    producer = kafka.producer()
    await producer.start()
    records = [
        OutRecord(topic, f"v{i}".encode(), f"key-{i % 20}".encode(), [("ce_id", f"id-{i}".encode())])
        for i in range(200)
    ]
    await producer.send(records)
    await producer.send([OutRecord(topic, b"pinned", None, [], 6)])
    await producer.stop()

    group = f"contract-{uuid.uuid4().hex[:8]}"
    consumer = kafka.consumer([spec], group_id=group)
    await consumer.start()
    got = await drain(consumer, 201)
    assert len(got) == 201
    by_value = {r.value: r for r in got}
    assert by_value[b"pinned"].partition == 6
    for i in range(200):
        record = by_value[f"v{i}".encode()]
        assert record.header("ce_id") == f"id-{i}".encode()
        # The same key -> partition mapping for both clients (and Java): murmur2.
        assert record.partition == murmur2_partition(f"key-{i % 20}".encode(), partitions)
    first = {r.partition: r.offset for r in got}
    for tp in consumer.assignment():
        high = consumer.high_watermark(tp)
        assert high is None or high >= first.get(tp.partition, 0)
    await consumer.commit({tp: consumer.high_watermark(tp) or 0 for tp in consumer.assignment()})
    await consumer.stop()

    # A new member of the group starts after what was committed.
    producer = kafka.producer()
    await producer.start()
    await producer.send([OutRecord(topic, b"after-commit", b"k", [])])
    await producer.stop()
    again = kafka.consumer([spec], group_id=group)
    await again.start()
    later = await drain(again, 1)
    await again.stop()
    assert [r.value for r in later] == [b"after-commit"]
