"""Wires national-check from the settings."""

from __future__ import annotations

from fseflow.bootstrap_helpers import follow_clock, open_database, wait_for_refdata, watch_dead_letters
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import DECISIONS, FSE_CLASSIFIED, FSE_RECEIVED, dead_letter_topic, topics_of
from national_check.adapters import postgres
from national_check.config import Settings
from national_check.entrypoints import streams
from national_check.handlers.classify import SERVICE, ClassifyBatch, Outputs

__all__ = ["SERVICE", "build"]


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    kafka = KafkaFactory(settings, client_id=SERVICE)
    names = kafka.names
    partitions = await kafka.ensure_topics(topics_of(SERVICE))
    pool = await open_database(settings, runtime)
    await migrate(pool, "national-check", postgres.MIGRATIONS)
    await wait_for_refdata(pool)
    async with pool.acquire() as conn:
        nomenclature = await postgres.read_nomenclature(conn)

    producer = kafka.producer()
    await producer.start()
    runtime.add_cleanup(producer.stop)
    follow_clock(kafka, runtime)
    watch_dead_letters(kafka, runtime, settings)

    handler = ClassifyBatch(
        pool,
        nomenclature,
        Outputs(
            classified_topic=names(FSE_CLASSIFIED),
            classified_partitions=partitions[names(FSE_CLASSIFIED)],
            dlq_topic=names(dead_letter_topic(SERVICE)),
            inputs={name: partitions[name] for name in (names(FSE_RECEIVED), names(DECISIONS))},
        ),
    )
    streams.start(kafka, runtime, producer, handler, max_records=settings.check_max_batch)
