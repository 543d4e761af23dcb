"""Wires relances: the intake of the pôle's settlements, the day close, the outbox."""

from __future__ import annotations

from fseflow.bootstrap_helpers import follow_clock, open_database, watch_dead_letters
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay, OutboxSweeper
from fseflow.service import ServiceRuntime
from fseflow.topics import SETTLEMENTS, topics_of
from relances.adapters import postgres
from relances.adapters.events import RelanceEvents
from relances.config import Settings
from relances.entrypoints import streams
from relances.handlers.day_close import SERVICE, DayCloser

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
    streams.start(kafka, runtime, producer, pool, closer, clock, settings)
    sweeper = OutboxSweeper(relay)
    runtime.add_task("outbox", sweeper.run, sweeper.request_stop, lambda: None)
