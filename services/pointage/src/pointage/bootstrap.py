"""Wires pointage: intake and day closing, the clock relay, the outbox, the console and API."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from fseflow.bootstrap_helpers import follow_clock, open_database, watch_dead_letters
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay, OutboxSweeper
from fseflow.service import ServiceRuntime
from fseflow.topics import (
    DOCUMENT_STORED,
    FSE_CLASSIFIED,
    SETTLEMENTS,
    topics_of,
)
from pointage.adapters import postgres
from pointage.adapters.events import PoleEvents
from pointage.adapters.scor_reader import ScorReader
from pointage.config import Settings
from pointage.domain.access import LoginLimits
from pointage.entrypoints import streams
from pointage.entrypoints.web import PointageWeb
from pointage.handlers.day_close import SERVICE, DayCloser
from pointage.handlers.decisions import Decisions

__all__ = ["SERVICE", "build"]

log = logging.getLogger(__name__)
CALENDAR_YEARS = (2000, 2060)


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    kafka = KafkaFactory(settings, client_id=SERVICE)
    names = kafka.names
    partitions = await kafka.ensure_topics(topics_of(SERVICE))
    pool = await open_database(settings, runtime)
    await migrate(pool, SERVICE, postgres.MIGRATIONS)
    await postgres.ensure_calendar(pool, date(CALENDAR_YEARS[0], 1, 1), date(CALENDAR_YEARS[1], 12, 31))

    producer = kafka.producer()
    await producer.start()
    runtime.add_cleanup(producer.stop)
    clock = follow_clock(kafka, runtime)
    watch_dead_letters(kafka, runtime, settings)
    relay = OutboxRelay(pool, postgres.OUTBOX, producer)
    # What an earlier run committed but could not publish goes out first.
    await relay.flush()

    inputs = {names(FSE_CLASSIFIED): partitions[names(FSE_CLASSIFIED)]}
    inputs[names(DOCUMENT_STORED)] = partitions[names(DOCUMENT_STORED)]
    closer = DayCloser(
        pool, PoleEvents(names), relay, kafka, inputs, settlements_partitions=partitions[names(SETTLEMENTS)]
    )
    streams.start(kafka, runtime, producer, partitions, pool, closer, clock, settings)

    sweeper = OutboxSweeper(relay)
    runtime.add_task("outbox", sweeper.run, sweeper.request_stop, lambda: None)

    if settings.console_port:
        web = PointageWeb(
            pool,
            Decisions(pool, closer.events, relay, clock),
            clock,
            ScorReader(settings.scor_addr, settings.scor_tls_ca, settings.technician_certs_dir),
            limits=LoginLimits(
                per_technician=settings.pointage_login_max_failures,
                per_client=settings.pointage_login_max_failures_per_client,
                window=timedelta(seconds=settings.pointage_login_window_seconds),
            ),
            session_lifetime=timedelta(seconds=settings.pointage_session_seconds),
        )
        await web.start(settings.console_host, settings.console_port)
        runtime.add_cleanup(web.stop)
