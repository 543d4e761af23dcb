"""The one topic registry.

Every topic is declared here once: its name, key, value type, partitions and its single writer.
Services create the topics they use from it at start-up (idempotently), producers refuse to
write a topic they do not own, and ``docs/topics.md`` is generated from it
(``fseflow topics doc``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from google.protobuf.message import Message

from fseflow.clock.v1.clock_pb2 import DayClosed, DayMark
from fseflow.cti.v1.classification_pb2 import FseClassified
from fseflow.cti.v1.ingest_pb2 import ArlIssued, FseReceived
from fseflow.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.scor.v1.scor_pb2 import AidGranted, DocumentStored

# Partition count token: the data topics use the deployment's KAFKA_PARTITIONS (8 by default,
# one per CTI; always a multiple of 8).
DATA_PARTITIONS = 0

SERVICES = ("ingest", "national-check", "pointage", "scor-store", "relances")
# The day closer is not a service: the replay, `fseflow clock close` or a daily CronJob.
CLOCK_WRITER = "clock"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value_type: type[Message]
    writer: str
    readers: tuple[str, ...]
    description: str
    partitions: int = DATA_PARTITIONS
    # Control records that may travel in the topic besides the value type.
    control_types: tuple[type[Message], ...] = ()
    # Extra topic configuration (name, value) pairs, e.g. ("cleanup.policy", "compact").
    config: tuple[tuple[str, str], ...] = ()
    _accepts: Any = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        types = (self.value_type, *self.control_types)
        object.__setattr__(self, "_accepts", MappingProxyType({t.DESCRIPTOR.full_name: t for t in types}))

    def partition_count(self, data_partitions: int) -> int:
        return self.partitions or data_partitions

    def accepts(self) -> MappingProxyType[str, type[Message]]:
        """Message types allowed on the topic, by protobuf full name."""
        accepted: MappingProxyType[str, type[Message]] = self._accepts
        return accepted


CLOCK = TopicSpec(
    name="clock.day-closed",
    key="world",
    value_type=DayClosed,
    writer=CLOCK_WRITER,
    readers=SERVICES,
    partitions=1,
    description=(
        "Business-day closures, in order. One partition on purpose: days are totally ordered. "
        "Stages do not act on it directly; ingest relays each closure as DayMark records into "
        "every partition of its output topics, behind that day's data."
    ),
)

FSE_RECEIVED = TopicSpec(
    name="cti.fse-received",
    key="world/NIR of the patient (patient-level controls: duplicates, AIS 3 per day)",
    value_type=FseReceived,
    control_types=(DayMark,),
    writer="ingest",
    readers=("national-check",),
    description="Each FSE of a lot that got a positive ARL, published once with a stable event id.",
)

ARL_ISSUED = TopicSpec(
    name="cti.arl-issued",
    key="world/professional id",
    value_type=ArlIssued,
    control_types=(DayMark,),
    writer="ingest",
    readers=("pointage",),
    description="Every ARL, positive or negative, as the notice sent to the professional (R1).",
)

FSE_CLASSIFIED = TopicSpec(
    name="cti.fse-classified",
    key="world/organism of the professional (the pole that receives it next day)",
    value_type=FseClassified,
    control_types=(DayMark,),
    writer="national-check",
    readers=("pointage",),
    description="One verdict per FSE: accord, rejet or litigieuse, every reason, the amount.",
)


DOCUMENT_STORED = TopicSpec(
    name="scor.document-stored",
    key="world/FSE id (pointage matches documents to their FSE)",
    value_type=DocumentStored,
    control_types=(DayMark,),
    writer="scor-store",
    readers=("pointage",),
    description="Metadata of each document stored by Scor (never the bytes: claim check).",
)

AID_GRANTED = TopicSpec(
    name="scor.aid-granted",
    key="world/professional id",
    value_type=AidGranted,
    control_types=(DayMark,),
    writer="scor-store",
    readers=("pointage", "relances"),
    description="The 90 € Scor quality aid, granted at scor_since + 90 days when > 99 % exploitable (R17).",
)


def dead_letter_topic(service: str) -> TopicSpec:
    return TopicSpec(
        name=f"dlq.{service}",
        key="source topic",
        value_type=DeadLetter,
        writer=service,
        readers=("operators",),
        description=(
            f"Messages {service} could not decode or process: original bytes, headers, "
            "source topic/partition/offset and the error."
        ),
    )


DEAD_LETTERS = tuple(dead_letter_topic(s) for s in SERVICES)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CLOCK,
    FSE_RECEIVED,
    ARL_ISSUED,
    FSE_CLASSIFIED,
    DOCUMENT_STORED,
    AID_GRANTED,
    *DEAD_LETTERS,
)


def scratch_topic(purpose: str, writer: str) -> TopicSpec:
    """A throw-away topic outside the registry (benchmark baselines, adapter tests)."""
    return TopicSpec(
        name=f"scratch.{purpose}-{uuid.uuid4().hex[:8]}",
        key="any",
        value_type=DayMark,
        writer=writer,
        readers=(writer,),
        description=f"scratch topic: {purpose}",
    )


def by_name(name: str) -> TopicSpec:
    for spec in ALL_TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def topics_of(service: str) -> tuple[TopicSpec, ...]:
    """Topics a service writes or reads."""
    return tuple(t for t in ALL_TOPICS if t.writer == service or service in t.readers)


class TopicNames:
    """Physical names: the registry's names behind the deployment's optional prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def __call__(self, spec: TopicSpec) -> str:
        return f"{self.prefix}{spec.name}"

    def spec_of(self, physical: str) -> TopicSpec:
        return by_name(physical.removeprefix(self.prefix))


def render_markdown(specs: Iterable[TopicSpec] = ALL_TOPICS) -> str:
    """docs/topics.md, generated: keep it in step with the registry (a test checks it)."""
    lines = [
        "# Topics",
        "",
        "Generated from `libs/fseflow/src/fseflow/topics.py` by `fseflow topics doc`; do not edit by hand.",
        "",
        "Every record carries CloudEvents-style headers: `ce_id` (stable event id, the "
        "idempotency key), `ce_type` (protobuf full name), `ce_source` (writing service), "
        "`ce_specversion`, `content-type: application/protobuf`, and W3C `traceparent`. "
        "Data topics also carry `fseflow.clock.v1.DayMark` control records (see "
        "docs/architecture.md, business clock).",
        "",
        "Partitions: `data` means the deployment's `KAFKA_PARTITIONS` (default 8, one per CTI, "
        "always a multiple of 8). Topic names take an optional `KAFKA_TOPIC_PREFIX`.",
        "",
        "| topic | key | value | partitions | writer | readers |",
        "|---|---|---|---|---|---|",
    ]
    for spec in specs:
        types = ", ".join(f"`{t.DESCRIPTOR.full_name}`" for t in (spec.value_type,))
        if spec.control_types:
            types += " (+ " + ", ".join(t.DESCRIPTOR.name for t in spec.control_types) + ")"
        partitions = "data" if spec.partitions == DATA_PARTITIONS else str(spec.partitions)
        lines.append(
            f"| `{spec.name}` | {spec.key} | {types} | {partitions} | {spec.writer} | "
            f"{', '.join(spec.readers)} |"
        )
    lines += ["", "## What each topic is for", ""]
    for spec in specs:
        lines.append(f"- `{spec.name}`: {spec.description}")
    lines.append("")
    return "\n".join(lines)
