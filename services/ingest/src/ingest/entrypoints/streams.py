"""ingest's stream wiring: it consumes only the clock, to close each day on its output topics."""

from __future__ import annotations

from fseflow.bootstrap_helpers import relay_clock
from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import ARL_ISSUED, FSE_RECEIVED
from ingest.handlers.lots import SERVICE


def start(
    kafka: KafkaFactory, runtime: ServiceRuntime, producer: Producer, partitions: dict[str, int]
) -> None:
    relay_clock(
        kafka,
        runtime,
        producer,
        outputs=[FSE_RECEIVED, ARL_ISSUED],
        partitions=partitions,
        group_id=f"{SERVICE}.clock-relay",
    )
