"""scor-store's stream wiring: on each closed day, its purge and aids, then the day's marks."""

from __future__ import annotations

from fseflow.bootstrap_helpers import relay_clock
from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import AID_GRANTED, DOCUMENT_STORED
from scor_store.handlers.day_closures import DayClosures
from scor_store.handlers.documents import SERVICE


def start(
    kafka: KafkaFactory,
    runtime: ServiceRuntime,
    producer: Producer,
    partitions: dict[str, int],
    closures: DayClosures,
) -> None:
    relay_clock(
        kafka,
        runtime,
        producer,
        outputs=[DOCUMENT_STORED, AID_GRANTED],
        partitions=partitions,
        group_id=f"{SERVICE}.clock",
        stage="day-closures",
        on_closure=closures,
    )
