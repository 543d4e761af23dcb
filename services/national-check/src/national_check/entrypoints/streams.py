"""national-check's stream processor: FseReceived and the pôle's decisions in, verdicts out."""

from __future__ import annotations

from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.streams import StreamProcessor
from fseflow.topics import DECISIONS, FSE_RECEIVED, dead_letter_topic
from national_check.handlers.classify import SERVICE, ClassifyBatch


def start(
    kafka: KafkaFactory,
    runtime: ServiceRuntime,
    producer: Producer,
    handler: ClassifyBatch,
    *,
    max_records: int,
) -> None:
    names = kafka.names
    processor = StreamProcessor(
        service=SERVICE,
        stage="classify",
        consumer=kafka.consumer([FSE_RECEIVED, DECISIONS], group_id=SERVICE),
        producer=producer,
        inputs={names(FSE_RECEIVED): FSE_RECEIVED, names(DECISIONS): DECISIONS},
        handler=handler,
        dlq_topic=names(dead_letter_topic(SERVICE)),
        max_records=max_records,
    )
    runtime.add_task("classify", processor.run, processor.request_stop, processor.readiness)
