"""Dead letters an operator can act on: list them, show them, re-drive them after a fix.

A service's dead-letter topic ``dlq.<service>`` keeps each record it gave up on, whole, with its
coordinates and the error (``dead_letters.py``). Re-driving publishes the original record again —
same key, value and headers, so the same ``ce_id`` — to its source topic and partition: the
service handles it as it would a redelivery after a crash, so a record it already processed
changes nothing (every consumer dedupes, on the event id or a natural key), and one that still
fails is dead-lettered again. That new letter is told apart by its own coordinates (a new offset on the
source topic, hence a new letter id) and by the ``fseflow-redrive-of`` header the re-driven
record carries, naming the letter it came from. A redrive reads the DLQ only up to the end it
had when the reading started, and by default leaves out letters carrying that header: one run
never re-drives what it caused, and repeated runs do not chase a record that keeps failing (D45).

Each service's DLQ depth gauge is in ``dlq_depth.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf import json_format, text_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from fseflow.codec import H_ID, H_TYPE
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.watermarks import read_to_end
from fseflow.topics import TopicNames, dead_letter_topic
from fseflow.topics import check_service as check_service  # the operator tool checks names the same way

REDRIVE_HEADER = "fseflow-redrive-of"
HEX_PREVIEW_BYTES = 64


@dataclass(frozen=True)
class StoredLetter:
    """One record of a DLQ topic: where it is there, and the letter."""

    dlq_topic: str
    partition: int
    offset: int
    # The dead-letter record's ce_id: derived from the source coordinates, so the same failed
    # record dead-lettered twice (a batch replayed after a crash) has the same one.
    letter_id: str
    letter: DeadLetter

    @property
    def position(self) -> str:
        return f"{self.partition}@{self.offset}"

    @property
    def address(self) -> str:
        return f"{self.dlq_topic}[{self.partition}]@{self.offset}"

    @property
    def source(self) -> str:
        letter = self.letter
        return f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"

    @property
    def redrive_of(self) -> str | None:
        """The letter this failed record was re-driven from, when it was."""
        for header in self.letter.headers:
            if header.key == REDRIVE_HEADER:
                return header.value.decode("utf-8", "replace")
        return None


@dataclass
class Scan:
    """What a DLQ topic held when it was read."""

    service: str
    topic: str
    letters: list[StoredLetter] = field(default_factory=list)
    # Records that are not DeadLetter messages (nothing fseflow writes; counted, not shown).
    unreadable: int = 0

    def distinct(self) -> list[StoredLetter]:
        """The letters without repeats of the same failed record (same letter id)."""
        seen: set[str] = set()
        kept = []
        for stored in self.letters:
            if stored.letter_id not in seen:
                seen.add(stored.letter_id)
                kept.append(stored)
        return kept


def read_letters(kafka: KafkaFactory, service: str, *, timeout_s: float = 60.0) -> Scan:
    """Every letter of ``service``'s DLQ, up to the end it had when reading began (blocking)."""
    topic = kafka.names(dead_letter_topic(check_service(service)))
    scan = Scan(service, topic)
    for record in read_to_end(kafka.confluent_config(), topic, timeout_s=timeout_s):
        try:
            letter = DeadLetter.FromString(record.value)
        except ProtobufDecodeError:
            scan.unreadable += 1
            continue
        ident = (record.header(H_ID) or b"").decode("utf-8", "replace")
        ident = ident or f"{record.partition}@{record.offset}"
        scan.letters.append(StoredLetter(topic, record.partition, record.offset, ident, letter))
    return scan


# -- list ------------------------------------------------------------------------------------------


def _failed_at(letter: DeadLetter) -> datetime | None:
    try:
        return datetime.fromisoformat(letter.failed_at)
    except ValueError:
        return None


def summary(scan: Scan) -> dict[str, Any]:
    """How many letters, by source topic and error type, oldest and newest failure."""
    letters = scan.distinct()
    times = [t for t in (_failed_at(s.letter) for s in letters) if t is not None]
    return {
        "service": scan.service,
        "topic": scan.topic,
        "letters": len(letters),
        "by_source_topic": dict(Counter(s.letter.source_topic for s in letters).most_common()),
        "by_error_type": dict(Counter(s.letter.error_type for s in letters).most_common()),
        "oldest_failed_at": min(times).isoformat() if times else None,
        "newest_failed_at": max(times).isoformat() if times else None,
        "failed_again_after_redrive": sum(1 for s in letters if s.redrive_of is not None),
        "repeated": len(scan.letters) - len(letters),
        "unreadable": scan.unreadable,
    }


# -- show ------------------------------------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters escaped (a key may hold anything)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _text_or_none(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _bytes_field(data: bytes) -> dict[str, Any]:
    text = _text_or_none(data)
    return {"text": text} if text is not None else {"hex": data.hex()}


def decode_value(letter: DeadLetter, names: TopicNames) -> tuple[Message | None, str]:
    """The letter's value as the source topic's message, or None and why not."""
    try:
        spec = names.spec_of(letter.source_topic)
    except (KeyError, ValueError):
        return None, f"{letter.source_topic} is not a topic of the registry"
    type_name = next((h.value.decode("utf-8", "replace") for h in letter.headers if h.key == H_TYPE), "")
    if type_name:
        message_type = spec.accepts().get(type_name)
        if message_type is None:
            return None, f"{H_TYPE} {type_name!r} is not a type of {spec.name}"
    else:
        message_type = spec.value_type
    message = message_type()
    try:
        message.ParseFromString(letter.value)
    except ProtobufDecodeError as exc:
        return None, f"not a valid {message_type.DESCRIPTOR.full_name}: {exc}"
    return message, message_type.DESCRIPTOR.full_name


def describe(stored: StoredLetter, names: TopicNames) -> dict[str, Any]:
    """One letter as plain data (``--json``)."""
    letter = stored.letter
    message, about = decode_value(letter, names)
    value: dict[str, Any] = {"size": len(letter.value)}
    if message is not None:
        value["type"] = about
        value["message"] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    else:
        value["not_decoded"] = about
        value["hex_preview"] = letter.value[:HEX_PREVIEW_BYTES].hex()
    return {
        "letter": {
            "topic": stored.dlq_topic,
            "partition": stored.partition,
            "offset": stored.offset,
            "id": stored.letter_id,
        },
        "service": letter.service,
        "source": {
            "topic": letter.source_topic,
            "partition": letter.source_partition,
            "offset": letter.source_offset,
        },
        "event_id": letter.event_id or None,
        "error_type": letter.error_type,
        "error": letter.error,
        "failed_at": letter.failed_at,
        "redrive_of": stored.redrive_of,
        "key": _bytes_field(letter.key),
        "headers": [{"key": h.key, **_bytes_field(h.value)} for h in letter.headers],
        "value": value,
    }


def render(stored: StoredLetter, names: TopicNames) -> list[str]:
    """One letter for a terminal."""
    letter = stored.letter
    key = _text_or_none(letter.key)
    lines = [
        f"letter {stored.position} of {stored.dlq_topic}  (id {stored.letter_id})",
        f"  source      {printable(stored.source)}",
        f"  event id    {printable(letter.event_id) or '-'}",
        f"  failed at   {printable(letter.failed_at)}",
        f"  error       {printable(letter.error_type)}: {printable(letter.error)}",
    ]
    if stored.redrive_of is not None:
        lines.append(f"  re-driven   from {printable(stored.redrive_of)}, and failed again")
    lines.append(f"  key         {key if key is not None else 'hex ' + letter.key.hex()}")
    for header in letter.headers:
        text = _text_or_none(header.value)
        shown = text if text is not None else "hex " + header.value.hex()
        lines.append(f"  header      {printable(header.key)}: {shown}")
    message, about = decode_value(letter, names)
    if message is not None:
        lines.append(f"  value       {about}, {len(letter.value)} bytes:")
        body = text_format.MessageToString(message, as_utf8=True).rstrip("\n")
        lines += [f"      {printable(line)}" for line in body.splitlines()] or ["      (empty message)"]
    else:
        preview = letter.value[:HEX_PREVIEW_BYTES].hex(" ")
        more = " ..." if len(letter.value) > HEX_PREVIEW_BYTES else ""
        lines.append(f"  value       {len(letter.value)} bytes, not decoded ({printable(about)})")
        lines.append(f"      {preview}{more}")
    return lines


# -- selection and redrive ---------------------------------------------------------------------------

_POSITION = re.compile(r"(?:(\d+)@)?(\d+)\Z")


@dataclass
class Selection:
    letters: list[StoredLetter]
    # Letters of records already re-driven once, left out (``include_redriven`` takes them).
    skipped_redriven: list[StoredLetter]


def select(
    scan: Scan,
    names: TopicNames,
    *,
    topic: str | None = None,
    error_type: str | None = None,
    positions: Sequence[str] = (),
    include_redriven: bool = False,
) -> Selection:
    """The letters matching every filter given, each failed record once. ``positions`` are
    PARTITION@OFFSET (or OFFSET when one partition only has it) in the DLQ topic, as ``dlq
    show`` prints them; naming a letter selects it even when it comes from a redrive."""
    candidates = scan.distinct()
    named: set[tuple[int, int]] = set()
    for text in positions:
        named.add(_resolve(text, scan))
    if named:
        # A repeat of the same failed record stands for its first letter.
        chosen = {s.letter_id for s in scan.letters if (s.partition, s.offset) in named}
        candidates = [s for s in candidates if s.letter_id in chosen]
    if topic is not None:
        wanted = {topic, names.prefix + topic}
        candidates = [s for s in candidates if s.letter.source_topic in wanted]
    if error_type is not None:
        candidates = [s for s in candidates if s.letter.error_type == error_type]
    if named or include_redriven:
        return Selection(candidates, [])
    return Selection(
        [s for s in candidates if s.redrive_of is None],
        [s for s in candidates if s.redrive_of is not None],
    )


def _resolve(text: str, scan: Scan) -> tuple[int, int]:
    match = _POSITION.match(text.strip())
    if match is None:
        raise ValueError(f"--offset {text!r}: not PARTITION@OFFSET nor OFFSET (as `dlq show` prints)")
    offset = int(match.group(2))
    if match.group(1) is not None:
        partition = int(match.group(1))
        if not any(s.partition == partition and s.offset == offset for s in scan.letters):
            raise ValueError(f"--offset {text}: no dead letter at {partition}@{offset} of {scan.topic}")
        return partition, offset
    partitions = sorted({s.partition for s in scan.letters if s.offset == offset})
    if not partitions:
        raise ValueError(f"--offset {text}: no dead letter at offset {offset} of {scan.topic}")
    if len(partitions) > 1:
        where = ", ".join(f"{p}@{offset}" for p in partitions)
        raise ValueError(f"--offset {text}: letters at {where} of {scan.topic}: say which, PARTITION@OFFSET")
    return partitions[0], offset


def not_redrivable(stored: StoredLetter, service: str, names: TopicNames) -> str | None:
    """Why ``stored`` cannot be re-driven (its source is not an input of ``service``), or None."""
    source = stored.letter.source_topic
    try:
        spec = names.spec_of(source)
    except (KeyError, ValueError):
        return f"{printable(source)} is not a topic of the registry"
    if service not in spec.readers:
        return f"{printable(source)} is not an input of {service}"
    return None


def redrive_records(letters: Iterable[StoredLetter]) -> list[OutRecord]:
    """The original records, in source order, each marked with the letter it is re-driven from
    (the mark of an earlier redrive replaced)."""
    ordered = sorted(
        letters,
        key=lambda s: (s.letter.source_topic, s.letter.source_partition, s.letter.source_offset),
    )
    return [
        OutRecord(
            topic=s.letter.source_topic,
            value=s.letter.value,
            key=s.letter.key or None,
            headers=[(h.key, h.value) for h in s.letter.headers if h.key != REDRIVE_HEADER]
            + [(REDRIVE_HEADER, s.address.encode())],
            partition=s.letter.source_partition,
        )
        for s in ordered
    ]


async def publish(kafka: KafkaFactory, records: Sequence[OutRecord]) -> None:
    """Publish ``records``, returning once the broker acknowledged every one."""
    producer = kafka.producer()
    await producer.start()
    try:
        await producer.send(records)
    finally:
        await producer.stop()
