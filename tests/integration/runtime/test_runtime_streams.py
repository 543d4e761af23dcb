"""fseflow.streams against the real broker: a batch's offsets are committed only once the broker
has acknowledged the records its handling produced; a stop whose last commit the group refuses
still ends cleanly."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Sequence

import pytest
from confluent_kafka import Consumer, ConsumerGroupState, TopicPartition
from confluent_kafka.admin import AdminClient
from google.protobuf.message import Message

from fseflow.codec import Envelope, encode, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.kafka.base import OutRecord, Producer
from fseflow.kafka.confluent import ConfluentConsumer
from fseflow.streams import HandlerResult, StreamProcessor
from fseflow.topics import scratch_topic
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration
RECORDS = 20


class GatedProducer:
    """The real producer, whose acknowledgements are held until ``gate`` opens."""

    def __init__(self, inner: Producer) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        delivery = await self.inner.enqueue(records)

        async def acknowledged() -> None:
            await self.gate.wait()
            await delivery

        return asyncio.ensure_future(acknowledged())

    async def send(self, records: Sequence[OutRecord]) -> None:
        await self.gate.wait()
        await self.inner.send(records)

    async def partition_count(self, topic: str) -> int:
        return await self.inner.partition_count(topic)


async def _publish_marks(producer: Producer, topic: str) -> None:
    """RECORDS DayMarks on ``topic``, keyed over its partitions."""
    await producer.send(
        [
            encode(
                DayMark(world="w", day="2026-03-02", source_partition=i, source_partitions=RECORDS),
                topic=topic,
                event_id=str(uuid.uuid4()),
                source="tests",
                key=f"k{i}".encode(),
            )
            for i in range(RECORDS)
        ]
    )


def committed(running: RunningStack, group: str, topic: str, partitions: int) -> int:
    consumer = Consumer({**running.client_config(), "group.id": group, "enable.auto.commit": False})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        consumer.close()


async def test_offsets_are_committed_only_after_the_outputs_are_acknowledged(running: RunningStack) -> None:
    kafka = running.kafka("streams-test")
    source, sink = scratch_topic("streams-in", "tests"), scratch_topic("streams-out", "tests")
    partitions = await kafka.ensure_topics([source, sink])
    names = kafka.names
    handled: list[int] = []

    async def echo(envelopes: list[Envelope[Message]]) -> HandlerResult:
        handled.append(len(envelopes))
        return HandlerResult(
            records=[
                encode(e.message, topic=names(sink), event_id=event_id("echo", e.event_id), source="tests")
                for e in envelopes
            ]
        )

    raw = kafka.producer()
    await raw.start()
    await _publish_marks(raw, names(source))
    await raw.stop()

    producer = GatedProducer(kafka.producer())
    await producer.start()
    group = f"streams-{uuid.uuid4().hex[:8]}"
    processor = StreamProcessor(
        service="tests",
        stage="echo",
        consumer=kafka.consumer([source], group_id=group),
        producer=producer,
        inputs={names(source): source},
        handler=echo,
        dlq_topic=names(sink),
    )
    task = asyncio.create_task(processor.run())
    try:
        deadline = time.monotonic() + 60
        while sum(handled) < RECORDS:
            assert time.monotonic() < deadline, f"handled {sum(handled)} of {RECORDS}"
            await asyncio.sleep(0.1)
        # Handled, outputs not acknowledged: nothing is committed while we keep looking (2 s).
        count = partitions[names(source)]
        for _ in range(10):
            assert await asyncio.to_thread(committed, running, group, names(source), count) == 0
            await asyncio.sleep(0.2)

        producer.gate.set()
        while (done := await asyncio.to_thread(committed, running, group, names(source), count)) < RECORDS:
            assert time.monotonic() < deadline + 60, f"committed {done} of {RECORDS} once acknowledged"
            await asyncio.sleep(0.2)
        assert done == RECORDS
    finally:
        processor.request_stop()
        producer.gate.set()
        await asyncio.wait_for(task, 30)
        await producer.stop()


def _members(running: RunningStack, group: str) -> int | None:
    """The group's member count, None while the broker does not know it yet."""
    admin = AdminClient(running.client_config())
    description = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
    if description.state in (ConsumerGroupState.UNKNOWN, ConsumerGroupState.DEAD):
        return None
    return len(description.members)


async def test_a_stop_whose_last_commit_the_group_refuses_still_ends_cleanly(
    running: RunningStack, caplog: pytest.LogCaptureFixture
) -> None:
    """Seen on a stack stopped right after `fseflow restart kafka`: the group was rebalancing and
    refused the commit made at stop, and every service ended with status 1. Here the member is
    fenced for real (its handler holds a batch past max.poll.interval.ms, so librdkafka leaves
    the group); then the stop's commit is refused and the stop must still end without raising."""
    if running.state.broker_kind == "tansu":
        pytest.skip("Tansu accepts a commit from a member that left its group: nothing to refuse")
    kafka = running.kafka("streams-test")
    source = scratch_topic("streams-fenced", "tests")
    await kafka.ensure_topics([source])
    names = kafka.names
    raw = kafka.producer()
    await raw.start()
    await _publish_marks(raw, names(source))
    group = f"streams-fenced-{uuid.uuid4().hex[:8]}"
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold(envelopes: list[Envelope[Message]]) -> HandlerResult:
        holding.set()
        await release.wait()
        return HandlerResult()

    consumer = ConfluentConsumer(
        {
            **kafka.confluent_config(),
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "max.poll.interval.ms": 6000,  # the smallest the broker's session bounds allow
        },
        [names(source)],
    )
    processor = StreamProcessor(
        service="tests",
        stage="fenced",
        consumer=consumer,
        producer=raw,
        inputs={names(source): source},
        handler=hold,
        dlq_topic=names(source),
    )
    task = asyncio.create_task(processor.run())
    try:
        await asyncio.wait_for(holding.wait(), 60)
        deadline = time.monotonic() + 60
        while await asyncio.to_thread(_members, running, group) != 0:  # it left the group
            assert time.monotonic() < deadline, "the member held past max.poll.interval.ms never left"
            await asyncio.sleep(0.5)
        processor.request_stop()
        release.set()
        with caplog.at_level("WARNING", logger="fseflow.streams"):
            await asyncio.wait_for(task, 60)  # before the fix: KafkaException (the refused commit)
        assert "final offset commit refused" in caplog.text
    finally:
        release.set()
        processor.request_stop()
        if not task.done():
            task.cancel()
        await raw.stop()
