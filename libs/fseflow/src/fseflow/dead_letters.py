"""Dead letters: a record that cannot be decoded or processed is kept, never dropped."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fseflow.codec import encode, event_id
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter, RecordHeader
from fseflow.kafka.base import InRecord, OutRecord
from fseflow.telemetry.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


def dead_letter(
    *, service: str, dlq_topic: str, record: InRecord, error: BaseException, event: str = ""
) -> OutRecord:
    """The dead-letter record for ``record``; counts it and logs why."""
    error_type = type(error).__name__
    DEAD_LETTERS.labels(service, record.topic, error_type).inc()
    log.error(
        "dead-lettered %s[%d]@%d: %s: %s",
        record.topic,
        record.partition,
        record.offset,
        error_type,
        error,
    )
    letter = DeadLetter(
        service=service,
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        key=record.key or b"",
        value=record.value,
        headers=[RecordHeader(key=k, value=v) for k, v in record.headers],
        error_type=error_type,
        error=str(error),
        event_id=event,
        failed_at=datetime.now(UTC).isoformat(),
    )
    # The same source coordinates always give the same id: a redelivery dedupes downstream.
    ident = event_id("dead-letter", record.topic, str(record.partition), str(record.offset))
    return encode(letter, topic=dlq_topic, event_id=ident, source=service, key=record.topic.encode())
