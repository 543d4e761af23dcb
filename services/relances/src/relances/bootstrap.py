"""Wires relances: the intake of the pôle's settlements, the day close, the outbox."""

from __future__ import annotations

from fseflow.bootstrap_helpers import follow_clock, open_database, watch_dead_letters
from fseflow.day_closer import DayCloseWatch
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay, OutboxSweeper
from fseflow.service import ServiceRuntime
from fseflow.streams import StreamProcessor
from fseflow.topics import SETTLEMENTS, dead_letter_topic, topics_of
from relances.adapters import postgres
from relances.adapters.events import RelanceEvents
from relances.config import Settings
from relances.handlers.intake import SERVICE, DayCloser, Intake

__all__ = ["SERVICE", "build"]


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    kafka = KafkaFactory(settings, client_id=SERVICE)
    names = kafka.names
    partitions = await kafka.ensure_topics(topics_of(SERVICE))
    pool = await open_database(settings, runtime)
    await migrate(pool, SERVICE, postgres.MIGRATIONS)

    producer = kafka.producer()
    await producer.start()
    runtime.add_cleanup(producer.stop)
    clock = follow_clock(kafka, runtime)
    watch_dead_letters(kafka, runtime, settings)
    relay = OutboxRelay(pool, postgres.OUTBOX, producer)
    await relay.flush()

    closer = DayCloser(
        pool, RelanceEvents(names), relay, kafka, {names(SETTLEMENTS): partitions[names(SETTLEMENTS)]}
    )
    dlq = names(dead_letter_topic(SERVICE))
    intake = StreamProcessor(
        service=SERVICE,
        stage="intake",
        consumer=kafka.consumer([SETTLEMENTS], group_id=SERVICE),
        producer=producer,
        inputs={names(SETTLEMENTS): SETTLEMENTS},
        handler=Intake(pool, closer, dlq),
        dlq_topic=dlq,
        max_records=settings.relances_max_batch,
    )
    runtime.add_task("intake", intake.run, intake.request_stop, intake.readiness)
    watch = DayCloseWatch(closer, clock, service=SERVICE, late_after_s=settings.day_close_late_after_s)
    runtime.add_task("day-close-watch", watch.run, watch.request_stop, watch.readiness)
    sweeper = OutboxSweeper(relay)
    runtime.add_task("outbox", sweeper.run, sweeper.request_stop, lambda: None)
