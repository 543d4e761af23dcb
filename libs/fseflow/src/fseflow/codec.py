"""Protobuf over Kafka with CloudEvents-style headers (binary content mode).

The value is the serialized protobuf message; the headers say what it is and which event it is:
``ce_id`` is the stable event id every consumer dedupes on, ``ce_type`` the message's full name.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from fseflow.kafka.base import Headers, InRecord, OutRecord
from fseflow.topics import TopicSpec

H_ID = "ce_id"
H_TYPE = "ce_type"
H_SOURCE = "ce_source"
H_SPEC = "ce_specversion"
H_CONTENT_TYPE = "content-type"
H_TRACEPARENT = "traceparent"
H_TRACESTATE = "tracestate"

_SPEC = b"1.0"
_CONTENT_TYPE = b"application/protobuf"

# Namespace of every event id fseflow derives (uuid5), so that a retried publication gets the
# same id and is deduplicated downstream.
EVENT_NAMESPACE = uuid.UUID("5f1b3c2e-8d0a-4c57-9a43-6f0e2b9c1d77")

M = TypeVar("M", bound=Message)


_NAMESPACE_BYTES = EVENT_NAMESPACE.bytes


def event_id(*parts: str) -> str:
    """A stable event id from the natural key of what happened: uuid5(EVENT_NAMESPACE, ...).

    Computed with hashlib directly (on every record's hot path), equal to ``uuid.uuid5``.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode()).digest()[:16])  # noqa: S324 - RFC 4122 uuid5 is SHA-1 by definition
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


class DecodeError(ValueError):
    """A record that is not a well-formed event of its topic."""


@dataclass(slots=True)
class Envelope(Generic[M]):
    record: InRecord
    event_id: str
    type_name: str
    message: M

    @property
    def traceparent(self) -> bytes | None:
        return self.record.header(H_TRACEPARENT)


def encode_raw(
    value: bytes,
    type_name: str,
    *,
    topic: str,
    event_id: str,
    source: str,
    key: bytes | None = None,
    partition: int | None = None,
    trace_headers: Headers | None = None,
) -> OutRecord:
    """Like ``encode`` for a message already serialized (e.g. re-publishing a stored output)."""
    headers: Headers = [(H_ID, event_id.encode()), *_constant_headers(type_name, source)]
    if trace_headers:
        headers.extend(trace_headers)
    return OutRecord(topic, value, key, headers, partition)


@lru_cache(maxsize=256)
def _constant_headers(type_name: str, source: str) -> tuple[tuple[str, bytes], ...]:
    return (
        (H_TYPE, type_name.encode()),
        (H_SOURCE, source.encode()),
        (H_SPEC, _SPEC),
        (H_CONTENT_TYPE, _CONTENT_TYPE),
    )


def encode(
    message: Message,
    *,
    topic: str,
    event_id: str,
    source: str,
    key: bytes | None = None,
    partition: int | None = None,
    trace_headers: Headers | None = None,
) -> OutRecord:
    return encode_raw(
        message.SerializeToString(),
        message.DESCRIPTOR.full_name,
        topic=topic,
        event_id=event_id,
        source=source,
        key=key,
        partition=partition,
        trace_headers=trace_headers,
    )


def decode(record: InRecord, spec: TopicSpec) -> Envelope[Message]:
    """Decode one record of ``spec``'s topic; raise DecodeError naming what is wrong."""
    type_name = ""
    ident = ""
    for name, value in record.headers:
        if name == H_TYPE:
            type_name = value.decode("utf-8", "replace")
        elif name == H_ID:
            ident = value.decode("utf-8", "replace")
    if not type_name:
        raise DecodeError(f"header {H_TYPE}: missing")
    if not ident:
        raise DecodeError(f"header {H_ID}: missing")
    # Every consumer stores the event id as a uuid: anything else would fail its batch.
    if not _UUID.match(ident):
        raise DecodeError(f"header {H_ID}: {ident[:64]!r} is not a lowercase UUID")
    message_type = spec._accepts.get(type_name)
    if message_type is None:
        raise DecodeError(f"header {H_TYPE}: {type_name!r} is not accepted on topic {spec.name}")
    message = message_type()
    try:
        message.ParseFromString(record.value)
    except ProtobufDecodeError as exc:
        raise DecodeError(f"value: not a valid {type_name}: {exc}") from exc
    return Envelope(record, ident, type_name, message)
