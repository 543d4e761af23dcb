"""national-check against the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import asyncpg
import pytest
from confluent_kafka import Consumer, TopicPartition
from google.protobuf.message import DecodeError

from fseflow.codec import encode, event_id
from fseflow.contracts.cti.v1.classification_pb2 import (
    CLASSIFICATION_ACCORD,
    CLASSIFICATION_LITIGIEUSE,
    FseClassified,
)
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.kafka.base import OutRecord
from fseflow.topics import FSE_CLASSIFIED, FSE_RECEIVED, dead_letter_topic
from tests.conftest import RunningStack
from tests.integration.helpers import NIR, START, close_day, ingest, lot, new_world, reading, sheet

pytestmark = pytest.mark.integration


POISON_ID = "0b9d5a52-3c1e-4f7a-9d11-2f6f0d8c4e01"


def received(world: str, fse_id: str, acts: int, ps: str = "ps-1") -> FseReceived:
    return FseReceived(
        world=world,
        lot_id="lot-x",
        ps_id=ps,
        ps_organism="01-331",
        cti=3,
        received_on="2026-03-02",
        fse=sheet(fse_id, acts=acts),
    )


async def publish(running: RunningStack, records: list[OutRecord]) -> None:
    producer = running.kafka().producer()
    await producer.start()
    try:
        await producer.send(records)
    finally:
        await producer.stop()


async def test_a_received_fse_gets_one_verdict_even_when_delivered_twice(running: RunningStack) -> None:
    world = await new_world(running)
    topic = running.kafka().names(FSE_RECEIVED)
    event = received(world, "fse-twice", acts=3)
    ident = event_id("fse-received", world, "lot-x", "fse-twice")
    record = encode(event, topic=topic, event_id=ident, source="ingest", key=f"{world}/{NIR}".encode())
    # Another nurse the same day: her 2 AIS 3 make the patient's count 5 that day.
    second = received(world, "fse-next", acts=2, ps="ps-paris")
    next_record = encode(
        second, topic=topic, event_id=str(uuid.uuid4()), source="ingest", key=f"{world}/{NIR}".encode()
    )
    async with reading(running, world, FSE_CLASSIFIED) as seen:
        # At-least-once: the same event arrives twice (a producer retry, a replayed batch).
        await publish(running, [record, record])
        await publish(running, [record, next_record])
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_CLASSIFIED], 30)
    verdicts = {m.fse_id: m for m in seen.topic(FSE_CLASSIFIED).messages if isinstance(m, FseClassified)}
    # 3 AIS 3 counted once: the next FSE's 2 make 5 > 4. Counted twice it would already be 6 with
    # the repeat itself, and the first FSE would not be an accord.
    assert verdicts["fse-twice"].classification == CLASSIFICATION_ACCORD
    assert verdicts["fse-next"].classification == CLASSIFICATION_LITIGIEUSE
    conn = await asyncpg.connect(running.state.database_url)
    try:
        count = await conn.fetchval(
            "SELECT count FROM national_check.ais3_daily WHERE world = $1 AND nir = $2", world, NIR
        )
        stored = await conn.fetchval("SELECT count(*) FROM national_check.verdicts WHERE world = $1", world)
    finally:
        await conn.close()
    # 3 once + 2 of the litigieuse FSE (not rejected, so it counts); a double count would give 8.
    assert (count, stored) == (5, 2)


async def test_an_undecodable_record_goes_to_the_dead_letter_topic(running: RunningStack) -> None:
    kafka = running.kafka()
    topic = kafka.names(FSE_RECEIVED)
    poison = OutRecord(
        topic,
        b"\xff\x00 not protobuf",
        b"poison-key",
        [("ce_type", b"fseflow.cti.v1.FseReceived"), ("ce_id", POISON_ID.encode())],
        5,
    )
    await publish(running, [poison])
    dlq = kafka.consumer([dead_letter_topic("national-check")], group_id=None, assign_all_from="beginning")
    await dlq.start()
    letter = None
    try:
        for _ in range(200):
            for record in await dlq.poll_batch(500, 0.1):
                candidate = DeadLetter.FromString(record.value)
                if candidate.key == b"poison-key":
                    letter = candidate
            if letter is not None:
                break
    finally:
        await dlq.stop()
    assert letter is not None
    assert (letter.service, letter.source_topic, letter.source_partition) == ("national-check", topic, 5)
    assert letter.value == poison.value
    assert letter.error_type == "DecodeError" and "not a valid" in letter.error
    assert {(h.key, h.value) for h in letter.headers} >= {("ce_id", POISON_ID.encode())}
    metrics = "".join(running.metrics(name) for name in running.instances("national-check"))
    assert re.search(r'fseflow_dead_letters_total\{.*error_type="DecodeError".*\} [1-9]', metrics)


async def test_one_trace_from_submit_lot_to_the_verdict(running: RunningStack) -> None:
    world = await new_world(running)
    trace_id = uuid.uuid4().hex
    metadata = (("traceparent", f"00-{trace_id}-{uuid.uuid4().hex[:16]}-00"),)
    async with reading(running, world, FSE_RECEIVED, FSE_CLASSIFIED) as seen, ingest(running) as stub:
        await stub.SubmitLot(lot(world, "lot-t", sheet("t1"), sheet("t2")), metadata=metadata)
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_RECEIVED, FSE_CLASSIFIED], 30)
    assert len(seen.topic(FSE_CLASSIFIED).messages) == 2
    traces = await _traceparents(running, FSE_CLASSIFIED, world)
    assert traces and all(t.split("-")[1] == trace_id for t in traces)


async def _traceparents(running: RunningStack, spec: object, world: str) -> list[str]:
    kafka = running.kafka()
    consumer = kafka.consumer([spec], group_id=None, assign_all_from="beginning")  # type: ignore[list-item]
    await consumer.start()
    found: list[str] = []
    try:
        idle = 0
        while idle < 5:
            records = await consumer.poll_batch(5000, 0.2)
            idle = 0 if records else idle + 1
            for record in records:
                if record.header("ce_type") != b"fseflow.cti.v1.FseClassified":
                    continue
                try:
                    classified = FseClassified.FromString(record.value)
                except DecodeError:
                    continue  # a poison record another test wrote
                if classified.world == world:
                    found.append((record.header("traceparent") or b"").decode())
    finally:
        await consumer.stop()
    return found


async def test_metrics_are_exposed(running: RunningStack) -> None:
    text = running.metrics(running.instances("national-check")[0])
    for name in (
        "fseflow_messages_consumed_total",
        "fseflow_messages_produced_total",
        "fseflow_batch_processing_seconds_bucket",
        "fseflow_consumer_lag",
        "fseflow_classifications_total",
    ):
        assert name in text, name
    assert "fseflow_messages_produced_total" in running.metrics("ingest")


async def test_sigterm_finishes_the_batch_and_commits(running: RunningStack) -> None:
    world = await new_world(running)
    async with reading(running, world, FSE_CLASSIFIED) as seen, ingest(running) as stub:
        await stub.SubmitLot(lot(world, "lot-s", *(sheet(f"s{i}") for i in range(50))))
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_CLASSIFIED], 30)
    names = running.instances("national-check")
    inputs = 2 * 8  # cti.fse-received and pointage.decisions
    for i, name in enumerate(names):
        running.stop(name)  # SIGTERM
        assert "stopped (status 0)" in running.log(name).splitlines()[-1]
        if i + 1 < len(names):
            # The next member leaves a settled group: Tansu wedges a group whose leader leaves
            # while it rebalances (docs/decisions.md D49).
            await asyncio.to_thread(_wait_holding, running, names[-1], inputs)
            # The last member consumes what earlier tests left behind before its SIGTERM: the
            # assertion is about what was consumed, not about a backlog still waiting.
            await asyncio.to_thread(_wait_consumed, running, names[-1])
    committed, high = await asyncio.to_thread(_committed_and_high, running)
    for name in names:
        running.start(name)
    assert committed == high  # everything consumed before SIGTERM was committed


def _classify_gauge(metrics: str, name: str) -> float | None:
    found = re.search(rf'^{name}\{{[^}}]*stage="classify"[^}}]*\}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else None


def _wait_holding(running: RunningStack, name: str, partitions: int) -> None:
    """Until ``name``'s consumer holds ``partitions`` partitions, its group settled (bounded: 60 s)."""
    held = rebalancing = None
    for _ in range(120):
        text = running.metrics(name)
        held = _classify_gauge(text, "fseflow_consumer_assigned_partitions")
        rebalancing = _classify_gauge(text, "fseflow_consumer_rebalancing")
        if held == partitions and rebalancing == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} holds {held} partitions (rebalancing {rebalancing}), not {partitions}")


def _wait_consumed(running: RunningStack, name: str) -> None:
    """Until ``name`` has consumed every partition of cti.fse-received up to its high-water mark.

    A partition it has consumed from shows its lag in /metrics; one it has not consumed from since
    its assignment shows none, and is caught up when the group's commit is its high-water mark."""
    topic = running.kafka().names(FSE_RECEIVED)
    count = FSE_RECEIVED.partition_count(running.kafka().settings.kafka_partitions)
    behind: dict[int, float] = {}
    for _ in range(60):
        lags = {
            int(labels["partition"]): value
            for labels, value in _samples(running.metrics(name), "fseflow_consumer_lag")
            if labels.get("topic") == topic
        }
        behind = {p: lag for p, lag in lags.items() if lag > 0}
        if not behind:
            unseen = set(range(count)) - set(lags)
            committed, high = _committed_and_high(running) if unseen else ({}, {})
            behind = {p: high[p] - committed[p] for p in unseen if committed[p] != high[p]}
            if not behind:
                return
        time.sleep(0.5)
    raise AssertionError(f"{name} still behind on cti.fse-received partitions {behind}")


def _samples(metrics: str, name: str) -> list[tuple[dict[str, str], float]]:
    found = re.findall(rf"^{name}\{{([^}}]*)\}} (\S+)$", metrics, re.M)
    return [(dict(re.findall(r'(\w+)="([^"]*)"', labels)), float(value)) for labels, value in found]


def _committed_and_high(running: RunningStack) -> tuple[dict[int, int], dict[int, int]]:
    topic = running.kafka().names(FSE_RECEIVED)
    count = FSE_RECEIVED.partition_count(running.kafka().settings.kafka_partitions)
    consumer = Consumer(
        {
            **running.client_config(),
            "group.id": "national-check",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = [TopicPartition(topic, p) for p in range(count)]
        committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=10)}
        # The high-water mark from a fetch (ListOffsets is not reliable on Tansu).
        reader = Consumer({**running.client_config(), "group.id": f"hw-{uuid.uuid4()}"})
        reader.assign([TopicPartition(topic, p, 0) for p in range(count)])
        high: dict[int, int] = {}
        deadline = time.monotonic() + 60  # every poll bounded
        while len(high) < count:
            assert time.monotonic() < deadline, f"high-water marks of {sorted(high)} only"
            reader.consume(10000, 0.5)
            for p in range(count):
                _low, hw = reader.get_watermark_offsets(TopicPartition(topic, p), cached=True)
                if hw >= 0:
                    high[p] = hw
        reader.close()
        return committed, high
    finally:
        consumer.close()
