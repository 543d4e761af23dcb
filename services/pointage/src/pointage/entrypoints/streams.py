"""pointage's stream wiring: classified FSE, stored documents and recovery orders in (intake), the
clock relayed behind the day's decisions, each day closed once every input has its marks."""

from __future__ import annotations

import asyncpg

from fseflow.bootstrap_helpers import relay_clock
from fseflow.business_clock import ClockFollower
from fseflow.day_closer import DayCloseWatch
from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.streams import StreamProcessor
from fseflow.topics import DECISIONS, DOCUMENT_STORED, FSE_CLASSIFIED, RECOVERY_ORDERS, dead_letter_topic
from pointage.config import Settings
from pointage.handlers.day_close import SERVICE, DayCloser
from pointage.handlers.intake import Intake


def start(
    kafka: KafkaFactory,
    runtime: ServiceRuntime,
    producer: Producer,
    partitions: dict[str, int],
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
        # Recovery orders ride along: they only fill the ledger that payments read (no day marks).
        consumer=kafka.consumer([FSE_CLASSIFIED, DOCUMENT_STORED, RECOVERY_ORDERS], group_id=SERVICE),
        producer=producer,
        inputs={
            names(FSE_CLASSIFIED): FSE_CLASSIFIED,
            names(DOCUMENT_STORED): DOCUMENT_STORED,
            names(RECOVERY_ORDERS): RECOVERY_ORDERS,
        },
        handler=Intake(pool, closer, dlq),
        dlq_topic=dlq,
        max_records=settings.pointage_max_batch,
    )
    runtime.add_task("intake", intake.run, intake.request_stop, intake.readiness)

    # Decisions are published as they are taken; each closure follows them into the topic, so
    # national-check knows when it has every decision of a day.
    relay_clock(
        kafka, runtime, producer, outputs=[DECISIONS], partitions=partitions, group_id=f"{SERVICE}.clock"
    )

    watch = DayCloseWatch(closer, clock, service=SERVICE, late_after_s=settings.day_close_late_after_s)
    runtime.add_task("day-close-watch", watch.run, watch.request_stop, watch.readiness)
