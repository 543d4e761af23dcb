"""The one topic registry.

Every topic is declared here once: its name, key, value type, partitions and its single writer.
Services create the topics they use from it at start-up (idempotently), producers refuse to
write a topic they do not own, and ``docs/topics.md`` is generated from it
(``fseflow topics doc``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from google.protobuf.message import Message

from fseflow.contracts.clock.v1.clock_pb2 import DayClosed, DayMark
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import ArlIssued, FseReceived
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.contracts.pointage.v1.pointage_pb2 import (
    AccordsValidated,
    ActsCounted,
    DecisionRecorded,
    DocumentMatched,
    FseDelivered,
    FsePaid,
    FseReplaced,
    LitigieuseDecided,
    NoticeSent,
    PaymentMade,
)
from fseflow.contracts.relances.v1.relances_pb2 import FseOverdue, RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted, DocumentStored

# Partition count token: the data topics use the deployment's KAFKA_PARTITIONS (8 by default,
# one per CTI; always a multiple of 8).
DATA_PARTITIONS = 0

SERVICES = ("ingest", "national-check", "pointage", "scor-store", "relances")
# The day closer is not a service: the replay, `fseflow clock close` or a daily CronJob.
CLOCK_WRITER = "clock"


def check_service(service: str) -> str:
    if service not in SERVICES:
        raise ValueError(f"service {service!r} is unknown: one of {', '.join(SERVICES)}")
    return service


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value_type: type[Message]
    writer: str
    readers: tuple[str, ...]
    description: str
    partitions: int = DATA_PARTITIONS
    # Other event types of the topic (a caisse's decisions topic carries three kinds).
    other_values: tuple[type[Message], ...] = ()
    # Control records that may travel in the topic besides the value type.
    control_types: tuple[type[Message], ...] = ()
    # Extra topic configuration (name, value) pairs, e.g. ("cleanup.policy", "compact").
    config: tuple[tuple[str, str], ...] = ()
    _accepts: Any = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        types = (self.value_type, *self.other_values, *self.control_types)
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
    key="world/FSE id (co-partitioned with scor.document-stored: pointage matches on it)",
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


DECISIONS = TopicSpec(
    name="pointage.decisions",
    key="world/NIR of the patient (national-check keeps its cross-FSE state by patient)",
    value_type=DecisionRecorded,
    control_types=(DayMark,),
    writer="pointage",
    readers=("national-check",),
    description=(
        "Technicians' decisions on litigieuses, for the national check: a decided accord's acts "
        "count for later duplicates (from the day after the decision). Pointage relays each "
        "day closure into it, behind that day's decisions."
    ),
)

SETTLEMENTS = TopicSpec(
    name="pointage.settlements",
    key="world/professional id (the relances keep each professional's account in one partition)",
    value_type=FsePaid,
    other_values=(DocumentMatched, ActsCounted),
    control_types=(DayMark,),
    writer="pointage",
    readers=("relances",),
    description=(
        "What the relances need from the pôle: each FSE paid (J0), each document matched, the "
        "day's acts per professional and mode. A DayMark follows each day the pôle closes."
    ),
)

RECOVERY_ORDERS = TopicSpec(
    name="relances.orders",
    key="world/FSE id",
    value_type=RecoveryOrdered,
    writer="relances",
    readers=("pointage",),
    description=(
        "Undue amounts the pôle takes back, by offset, from the professional's first payment on or "
        "after the recovery day (R13): a missing document at J75 (recovered from J135), acts "
        "during a hospital stay learned late (recovered 60 days later)."
    ),
)

# -- per-caisse topics --------------------------------------------------------------------------
# One family per organism (RR-CCC), so that a regional caisse subscribes to its own flow and a
# prefix ACL (`caisse.01-331.`) keeps it there. A caisse's volume is a small share of the
# national one: one partition gives its subscribers one total order per day.
ORGANISM_PATTERN = re.compile(r"[0-9]{2}-[0-9]{3}\Z")  # \Z: "$" would accept a trailing newline
CAISSE_PARTITIONS = 1
CAISSE_PREFIX = "caisse."
_CAISSE_KINDS: tuple[tuple[str, str, type[Message], tuple[type[Message], ...], str, str], ...] = (
    (
        "fse",
        "world/FSE id",
        FseDelivered,
        (),
        "The FSE delivered to the pôle the business day after their check (R3), in their three "
        "groups: classification, every reason, amount, cost (R11).",
        "pointage",
    ),
    (
        "decisions",
        "world/FSE id (world/organism for a bulk validation)",
        AccordsValidated,
        (LitigieuseDecided, FseReplaced),
        "The day's accords validated in one action (R4), litigieuses decided by a technician (R5), "
        "rejected FSE replaced by their correction (R7).",
        "pointage",
    ),
    (
        "payments",
        "world/professional id",
        PaymentMade,
        (),
        "One payment per professional per payment day: its FSE, gross, offsets, net (R4).",
        "pointage",
    ),
    (
        "pointage",
        "world/FSE id",
        DocumentMatched,
        (),
        "Documents matched to their FSE at pointage, the business day after both are known (R8, R16).",
        "pointage",
    ),
    (
        "notices",
        "world/professional id",
        NoticeSent,
        (),
        "Notices to the caisse's professionals: Compagnon's plain-language explanations of rejets (R6), "
        "recoveries applied to their payments (R13).",
        "pointage",
    ),
    (
        "relances",
        "world/FSE id (world/professional id for an aid)",
        FseOverdue,
        (NoticeSent, RecoveryOrdered, AidGranted),
        "The relances of the caisse's professionals (R13): documents overdue at J30, reminders "
        "(J45) and undue-payment notices (J75, hospital stays), recoveries ordered; the aids of "
        "R22 (100 € with the first FSE, 300 € for ≥ 70 % of acts teletransmitted).",
        "relances",
    ),
)
CAISSE_KINDS = tuple(kind for kind, *_ in _CAISSE_KINDS)


def caisse_kinds_of(writer: str) -> tuple[str, ...]:
    """The kinds of a caisse's family one service writes (each topic has one writer)."""
    return tuple(kind for kind, *_, by in _CAISSE_KINDS if by == writer)


def check_organism(organism: str) -> str:
    if not ORGANISM_PATTERN.match(organism):
        raise ValueError(f"organism {organism!r} is not RR-CCC (two-digit régime, three-digit caisse)")
    return organism


def _caisse_family(organism: str) -> tuple[TopicSpec, ...]:
    return tuple(
        TopicSpec(
            name=f"{CAISSE_PREFIX}{organism}.{kind}",
            key=key,
            value_type=value_type,
            other_values=others,
            control_types=(DayMark,),
            writer=writer,
            readers=(f"caisse {organism}",),
            partitions=CAISSE_PARTITIONS,
            description=description,
        )
        for kind, key, value_type, others, description, writer in _CAISSE_KINDS
    )


def caisse_topics(organism: str) -> tuple[TopicSpec, ...]:
    """The topics of one organism: fse, decisions, payments, pointage, notices (the pôle's) and
    relances (the relances')."""
    return _caisse_family(check_organism(organism))


def caisse_topic(organism: str, kind: str) -> TopicSpec:
    for spec in caisse_topics(organism):
        if spec.name.endswith(f".{kind}"):
            return spec
    raise KeyError(kind)


# The family as documentation (not a creatable topic: `<organism>` stands for RR-CCC).
CAISSE_FAMILY = _caisse_family("<organism>")


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
    DECISIONS,
    SETTLEMENTS,
    RECOVERY_ORDERS,
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
    if name.startswith(CAISSE_PREFIX):
        organism, _, kind = name.removeprefix(CAISSE_PREFIX).partition(".")
        return caisse_topic(organism, kind)
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


def render_markdown(specs: Iterable[TopicSpec] = (*ALL_TOPICS, *CAISSE_FAMILY)) -> str:
    """docs/topics.md, generated: keep it in step with the registry (a test checks it)."""
    lines = [
        "# Topics",
        "",
        "Generated from `libs/fseflow/src/fseflow/topics.py` by `fseflow topics doc`; do not edit by hand.",
        "",
        "Every record carries CloudEvents-style headers: `ce_id` (stable event id, the "
        "idempotency key), `ce_type` (protobuf full name), `ce_source` (writing service), "
        "`ce_specversion`, `content-type: application/protobuf`; every data record also carries "
        "W3C `traceparent`. Data topics also carry `fseflow.clock.v1.DayMark` control records (see "
        "docs/architecture.md, business clock), which belong to no request and carry no trace.",
        "",
        "Partitions: `data` means the deployment's `KAFKA_PARTITIONS` (default 8, one per CTI, "
        "always a multiple of 8). Topic names take an optional `KAFKA_TOPIC_PREFIX`.",
        "",
        "| topic | key | value | partitions | writer | readers |",
        "|---|---|---|---|---|---|",
    ]
    for spec in specs:
        types = ", ".join(f"`{t.DESCRIPTOR.full_name}`" for t in (spec.value_type, *spec.other_values))
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
    lines += [
        "",
        "## A regional caisse's own flow",
        "",
        "Each organism `RR-CCC` has its family "
        "`caisse.RR-CCC.{fse,decisions,payments,pointage,notices,relances}`, "
        "created by pointage and relances the first time they write to it (and by `fseflow subscribe`). "
        "Every record carries its `world`; the day's last record in each topic is a DayMark "
        "(the pôle closed that day). Watch one organism's flow live:",
        "",
        "```sh",
        "fseflow subscribe 01-331                  # everything of caisse 01-331, as it happens",
        "fseflow subscribe 01-331 --kind payments  # one topic of the family",
        "```",
        "",
        "On a cluster a prefix ACL keeps each caisse to its own family, e.g. with Strimzi:",
        "",
        "```yaml",
        "acls:",
        "  - resource: {type: topic, name: caisse.01-331., patternType: prefix}",
        "    operations: [Read, Describe]",
        "  - resource: {type: group, name: caisse.01-331., patternType: prefix}",
        "    operations: [Read]",
        "```",
        "",
    ]
    return "\n".join(lines)
