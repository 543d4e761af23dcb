"""relances' stream wiring: the pôle's settlements in (intake), each day closed once the pôle has."""

from __future__ import annotations

import asyncpg

from fseflow.business_clock import ClockFollower
from fseflow.day_closer import DayCloseWatch
from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.streams import StreamProcessor
from fseflow.topics import SETTLEMENTS, dead_letter_topic
from relances.config import Settings
from relances.handlers.day_close import SERVICE, DayCloser
from relances.handlers.intake import Intake


def start(
    kafka: KafkaFactory,
    runtime: ServiceRuntime,
    producer: Producer,
    pool: asyncpg.Pool,
    closer: DayCloser,
    clock: ClockFollower,
    settings: Settings,
) -> None:
    names = kafka.names
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
