"""``fseflow pointage bench``: the pôle's two hot paths, each with the raw baseline of the same run.

1. Bulk validation (R4): 100,000 accords of one organism validated in one action — the use case
   as the console runs it (one set-based UPDATE, the AccordsValidated records written to the
   outbox and published) — against a bare UPDATE of the same rows in a scratch table.
2. Matching (R8, R16): 1,000,000 FSE and 1,000,000 documents, shuffled, consumed by pointage's
   intake (the stream processor of the service) until every document is matched — against
   consuming the same 2,000,000 records with the same client and doing nothing.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from fseflow.business_clock import ClockFollower
from fseflow.codec import encode, event_id
from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, Fse
from fseflow.contracts.cti.v1.classification_pb2 import CLASSIFICATION_ACCORD, FseClassified
from fseflow.contracts.scor.v1.scor_pb2 import DocumentInfo, DocumentMetadata, DocumentStored
from fseflow.db import Conn, create_pool, migrate
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.settings import KafkaSettings
from fseflow.streams import StreamProcessor
from fseflow.topics import DOCUMENT_STORED, FSE_CLASSIFIED, SETTLEMENTS, TopicSpec, scratch_topic
from pointage import metrics
from pointage.adapters import postgres as pg
from pointage.adapters.events import PoleEvents
from pointage.handlers.day_close import DayCloser
from pointage.handlers.decisions import Decisions
from pointage.handlers.intake import Intake

DAY = date(2026, 3, 2)
VALIDATED_ON = date(2026, 3, 3)
ORGANISM = "01-331"


@dataclass
class PoleBenchConfig:
    accords: int = 100_000
    matches: int = 1_000_000
    batch: int = 5_000
    # Intake consumers of one group (pointage replicas): the partitions are split between them.
    workers: int = 2
    seed: int = 11


def _bench_fse(world: str, ident: str, rng: random.Random) -> Fse:
    day = f"2026-02-{rng.randint(1, 28):02d}"
    return Fse(
        fse_id=ident,
        nir=f"{rng.randrange(10**12, 10**13)}",
        nir_key="17",
        mode=BillingMode.BILLING_MODE_SECURISE,
        prescriber="10003456786",
        acts=[ActLine(code="AMI", coefficient="2", performed_on=day)],
    )


# -- 1. bulk validation ----------------------------------------------------------------------------
async def _seed_accords(conn: Conn, world: str, count: int, rng: random.Random) -> None:
    """``count`` accords of one organism, delivered and waiting for the day's validation."""
    records = []
    for i in range(count):
        fse = _bench_fse(world, f"v-{i}", rng)
        classified = FseClassified(world=world, fse_id=fse.fse_id, fse=fse).SerializeToString()
        records.append(
            (world, fse.fse_id, "lot", f"ps-{i % 500}", ORGANISM, ORGANISM, 3, fse.nir, fse.mode, DAY, DAY,
             "accord", "", 756, 1, "", classified, pg.TO_VALIDATE, VALIDATED_ON)
        )  # fmt: skip
    await conn.copy_records_to_table(
        "fse", schema_name="pointage", columns=(*pg.FSE_COLUMNS, "state", "delivered_on"), records=records
    )
    await conn.execute("ANALYZE pointage.fse")


async def bench_validation(
    kafka: KafkaFactory, database_url: str, config: PoleBenchConfig, console: Console
) -> dict[str, Any]:
    rng = random.Random(config.seed)  # noqa: S311 - load generation
    world = f"bench-pole-{uuid.uuid4().hex[:8]}"
    pool = await create_pool(database_url, max_size=4)
    producer = kafka.producer()
    await producer.start()
    try:
        await migrate(pool, "pointage", pg.MIGRATIONS)
        await pg.ensure_calendar(pool, date(2026, 1, 1), date(2027, 12, 31))
        console.print(f"bulk validation: seeding {config.accords:,} accords of {ORGANISM}...")
        async with pool.acquire() as conn:
            await _seed_accords(conn, world, config.accords, rng)
        relay = OutboxRelay(pool, pg.OUTBOX, producer)
        await relay.flush()  # leave nothing of earlier runs in the way
        events = PoleEvents(kafka.names)
        settlements = SETTLEMENTS.partition_count(kafka.settings.kafka_partitions)
        closer = DayCloser(pool, events, relay, kafka, {}, settlements_partitions=settlements)
        await closer.ensure_caisse_topics([ORGANISM])
        clock = ClockFollower(kafka.consumer([], group_id=None, assign_all_from="beginning"))
        decisions = Decisions(pool, events, relay, clock)
        started = time.perf_counter()
        result = await decisions.validate_all(
            world=world, organism=ORGANISM, technician="bench", on=VALIDATED_ON
        )
        use_case_s = time.perf_counter() - started
        assert result["validated"] == config.accords, result

        # Baseline: the bare statement on a copy of the same rows, nothing else.
        async with pool.acquire() as conn:
            # (``world`` is ours: "bench-pole-" and hex digits.)
            await conn.execute(
                f"CREATE TEMP TABLE bench_fse AS SELECT * FROM pointage.fse WHERE world = '{world}'"
            )
            await conn.execute(
                f"UPDATE bench_fse SET state = '{pg.TO_VALIDATE}', "
                "decided_on = NULL, decided_by = NULL, pay_on = NULL"
            )
            await conn.execute("ANALYZE bench_fse")
            started = time.perf_counter()
            status = await conn.execute(
                """
                UPDATE bench_fse SET state = 'validated', decided_on = $1, decided_by = 'bench', pay_on = $2
                WHERE state = 'to_validate' AND organism = $3
                """,
                VALIDATED_ON,
                date(2026, 3, 9),
                ORGANISM,
            )
            raw_s = time.perf_counter() - started
            assert status.endswith(str(config.accords)), status
            await conn.execute("DROP TABLE bench_fse")
            await conn.execute("DELETE FROM pointage.fse WHERE world = $1", world)
    finally:
        await producer.stop()
        await pool.close()
    return {
        "accords": config.accords,
        "use_case_seconds": round(use_case_s, 3),
        "raw_update_seconds": round(raw_s, 3),
        "target_seconds": 2.0,
        "met": use_case_s < 2.0,
    }


# -- 2. matching -----------------------------------------------------------------------------------
def _scratch(spec: TopicSpec, purpose: str) -> TopicSpec:
    return replace(spec, name=scratch_topic(purpose, "bench").name)


def _matching_records(
    world: str, first: int, count: int, classified_topic: str, stored_topic: str, rng: random.Random
) -> list[OutRecord]:
    records = []
    for i in range(first, first + count):
        ident = f"m-{i}"
        fse = _bench_fse(world, ident, rng)
        classified = FseClassified(
            world=world, fse_id=ident, lot_id="lot", ps_id=f"ps-{i % 500}", ps_organism=ORGANISM,
            patient_organism=ORGANISM, cti=3, received_on=DAY.isoformat(), checked_on=DAY.isoformat(),
            classification=CLASSIFICATION_ACCORD, amount_cents=756, fse=fse,
        )  # fmt: skip
        stored = DocumentStored(
            document=DocumentInfo(
                metadata=DocumentMetadata(
                    world=world, document_id=f"d-{i}", fse_id=ident, ps_id=classified.ps_id,
                    kind="prescription", received_on=DAY.isoformat(),
                ),
                exploitable=True,
            )
        )  # fmt: skip
        key = f"{world}/{ident}".encode()
        records.append(
            encode(
                classified,
                topic=classified_topic,
                event_id=event_id("c", world, ident),
                source="bench",
                key=key,
            )
        )
        records.append(
            encode(stored, topic=stored_topic, event_id=event_id("d", world, ident), source="bench", key=key)
        )
    rng.shuffle(records)  # documents before, with and after their FSE
    return records


async def _produce(kafka: KafkaFactory, records: list[OutRecord]) -> None:
    producer = kafka.producer()
    await producer.start()
    try:
        for start in range(0, len(records), 20_000):
            await producer.send(records[start : start + 20_000])
    finally:
        await producer.stop()


async def _consume_only(kafka: KafkaFactory, specs: list[TopicSpec], expected: int) -> float:
    consumer = kafka.consumer(specs, group_id=None, assign_all_from="beginning")
    await consumer.start()
    try:
        received = 0
        started = time.perf_counter()
        while received < expected:
            received += len(await consumer.poll_batch(10_000, 0.05))
        return expected / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def bench_matching(
    kafka: KafkaFactory, database_url: str, config: PoleBenchConfig, console: Console
) -> dict[str, Any]:
    rng = random.Random(config.seed)  # noqa: S311 - load generation
    world = f"bench-match-{uuid.uuid4().hex[:8]}"
    classified_spec = _scratch(FSE_CLASSIFIED, "bench-classified")
    stored_spec = _scratch(DOCUMENT_STORED, "bench-stored")
    dlq_spec = scratch_topic("bench-dlq", "bench")
    partitions = await kafka.ensure_topics([classified_spec, stored_spec, dlq_spec])
    names = kafka.names
    console.print(f"matching: producing {config.matches:,} FSE and {config.matches:,} documents, shuffled...")
    chunk = 100_000
    for start in range(0, config.matches, chunk):
        records = _matching_records(
            world, start, min(chunk, config.matches - start), names(classified_spec), names(stored_spec), rng
        )
        await _produce(kafka, records)
    total = 2 * config.matches

    console.print("matching: raw baseline (consume the same records, nothing else)...")
    raw = await _consume_only(kafka, [classified_spec, stored_spec], total)

    pool = await create_pool(database_url, max_size=4)
    producer = kafka.producer()
    await producer.start()
    try:
        await migrate(pool, "pointage", pg.MIGRATIONS)
        await pg.ensure_calendar(pool, date(2026, 1, 1), date(2027, 12, 31))
        relay = OutboxRelay(pool, pg.OUTBOX, producer)
        inputs = {names(classified_spec): partitions[names(classified_spec)]}
        settlements = SETTLEMENTS.partition_count(kafka.settings.kafka_partitions)
        closer = DayCloser(pool, PoleEvents(names), relay, kafka, inputs, settlements_partitions=settlements)
        group = f"bench-{uuid.uuid4().hex[:8]}"
        processors = [
            StreamProcessor(
                service="pointage",
                stage="bench-intake",
                consumer=kafka.consumer([classified_spec, stored_spec], group_id=group),
                producer=producer,
                inputs={names(classified_spec): classified_spec, names(stored_spec): stored_spec},
                handler=Intake(pool, closer, names(dlq_spec)),
                dlq_topic=names(dlq_spec),
                max_records=config.batch,
            )
            for _ in range(config.workers)
        ]
        before = metrics.MATCHED._value.get()
        console.print(f"matching: pointage's intake ({config.workers} consumer(s)) stores and matches...")
        started = time.perf_counter()
        tasks = [asyncio.create_task(p.run()) for p in processors]
        first_batch = None
        while metrics.MATCHED._value.get() - before < config.matches:
            for task in tasks:
                if task.done():
                    task.result()
            if first_batch is None and any(p.batches for p in processors):
                first_batch = time.perf_counter()
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        # Without the group join (Tansu makes a new member wait): from the first batch handled.
        working = time.perf_counter() - (first_batch or started)
        for processor in processors:
            processor.request_stop()
        await asyncio.gather(*tasks)
        async with pool.acquire() as conn:
            matched = await conn.fetchval("SELECT count(*) FROM pointage.matches WHERE world = $1", world)
            for table in ("matches", "documents", "fse"):
                await conn.execute(f"DELETE FROM pointage.{table} WHERE world = $1", world)
    finally:
        await producer.stop()
        await pool.close()
    assert matched == config.matches, matched
    return {
        "fse": config.matches,
        "documents": config.matches,
        "matches_per_s": round(config.matches / working, 1),
        "matches_per_s_with_group_join": round(config.matches / elapsed, 1),
        "records_per_s": round(total / working, 1),
        "raw_consume_records_per_s": round(raw, 1),
        "target_matches_per_s": 10_000,
        "met": config.matches / working >= 10_000,
        "batch": config.batch,
        "intake_consumers": config.workers,
    }


async def run(
    settings: KafkaSettings, database_url: str, config: PoleBenchConfig, console: Console
) -> dict[str, Any]:
    kafka = KafkaFactory(settings, client_id="fseflow-pointage-bench")
    validation = await bench_validation(kafka, database_url, config, console)
    matching = await bench_matching(kafka, database_url, config, console)
    table = Table(title="fseflow pointage bench")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("raw baseline, same run", justify="right")
    table.add_row(
        f"bulk validation of {validation['accords']:,} accords, one organism (target < 2 s)",
        f"{validation['use_case_seconds']:.3f} s",
        f"bare UPDATE {validation['raw_update_seconds']:.3f} s",
    )
    table.add_row(
        f"matching {matching['fse']:,} FSE + {matching['documents']:,} documents (target ≥ 10,000/s)",
        f"{matching['matches_per_s']:,.0f} matches/s",
        f"consume only {matching['raw_consume_records_per_s']:,.0f} records/s",
    )
    table.add_row(
        "  the same, records/s through the intake",
        f"{matching['records_per_s']:,.0f} records/s",
        "",
    )
    console.print(table)
    return {"validation": validation, "matching": matching}
