"""The records pointage publishes: per-caisse topics, and its decisions for the national check.

Event ids derive from what happened (uuid5), so a day closed twice after a crash, or a decision
re-published, gives the same ids, which subscribers dedupe.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message

from fseflow.business_clock import caisse_day_marks, day_marks
from fseflow.codec import encode, event_id
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
    ValidatedFse,
)
from fseflow.kafka.base import OutRecord
from fseflow.topics import DECISIONS, SETTLEMENTS, TopicNames, caisse_topic

SOURCE = "pointage"
# FSE per AccordsValidated record: a national day of one organism stays well under a megabyte.
VALIDATED_PER_RECORD = 5_000


class PoleEvents:
    def __init__(self, names: TopicNames) -> None:
        self.names = names
        self.decisions_topic = names(DECISIONS)
        self.settlements_topic = names(SETTLEMENTS)

    def topic(self, organism: str, kind: str) -> str:
        return self.names(caisse_topic(organism, kind))

    def _caisse(self, message: Message, organism: str, kind: str, ident: str, key: str) -> OutRecord:
        return encode(
            message, topic=self.topic(organism, kind), event_id=ident, source=SOURCE, key=key.encode()
        )

    def delivered(self, event: FseDelivered) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "fse",
            event_id("fse-delivered", event.world, event.fse_id),
            f"{event.world}/{event.fse_id}",
        )

    def validated(
        self, world: str, organism: str, validated_on: str, by: str, fse: Iterable[tuple[str, str]]
    ) -> list[OutRecord]:
        items = sorted(fse)
        records = []
        for start in range(0, len(items), VALIDATED_PER_RECORD):
            event = AccordsValidated(
                world=world,
                organism=organism,
                validated_on=validated_on,
                by=by,
                fse=[
                    ValidatedFse(fse_id=f, pay_on=p) for f, p in items[start : start + VALIDATED_PER_RECORD]
                ],
            )
            # The first FSE names the chunk: the same validation re-run gives the same ids.
            ident = event_id("accords-validated", world, organism, validated_on, items[start][0])
            records.append(self._caisse(event, organism, "decisions", ident, f"{world}/{organism}"))
        return records

    def decided(self, event: LitigieuseDecided) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "decisions",
            event_id("litigieuse-decided", event.world, event.fse_id),
            f"{event.world}/{event.fse_id}",
        )

    def replaced(self, event: FseReplaced) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "decisions",
            event_id("fse-replaced", event.world, event.fse_id),
            f"{event.world}/{event.fse_id}",
        )

    def payment(self, event: PaymentMade) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "payments",
            event_id("payment", event.world, event.payment_id),
            f"{event.world}/{event.ps_id}",
        )

    def matched(self, event: DocumentMatched) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "pointage",
            event_id("document-matched", event.world, event.document_id),
            f"{event.world}/{event.fse_id}",
        )

    def notice(self, event: NoticeSent) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            "notices",
            event_id("notice", event.world, event.kind, event.fse_id, event.sent_on),
            f"{event.world}/{event.ps_id}",
        )

    def decision_recorded(self, event: DecisionRecorded) -> OutRecord:
        return encode(
            event,
            topic=self.decisions_topic,
            event_id=event_id("decision-recorded", event.world, event.fse_id),
            source=SOURCE,
            key=f"{event.world}/{event.nir}".encode(),
        )

    # -- pointage.settlements, for the relances (key world/professional) ------------------------
    def _settlement(self, message: Message, ident: str, world: str, ps_id: str) -> OutRecord:
        return encode(
            message,
            topic=self.settlements_topic,
            event_id=ident,
            source=SOURCE,
            key=f"{world}/{ps_id}".encode(),
        )

    def fse_paid(self, event: FsePaid) -> OutRecord:
        return self._settlement(
            event, event_id("fse-paid", event.world, event.fse_id), event.world, event.ps_id
        )

    def match_settled(self, event: DocumentMatched, ps_id: str) -> OutRecord:
        ident = event_id("settled-match", event.world, event.document_id)
        return self._settlement(event, ident, event.world, ps_id)

    def acts_counted(self, event: ActsCounted) -> OutRecord:
        ident = event_id(
            "acts-counted", event.world, event.ps_id, event.counted_on, str(event.year), str(event.mode)
        )
        return self._settlement(event, ident, event.world, event.ps_id)

    def settlements_closed(self, world: str, day: str, partitions: int) -> list[OutRecord]:
        return day_marks(
            topic=self.settlements_topic,
            partitions=partitions,
            world=world,
            day=day,
            stage=SOURCE,
            source_partition=0,
            source_partitions=1,
        )

    def day_closed(self, world: str, day: str, organisms: Iterable[str]) -> list[OutRecord]:
        """The pôle closed ``day``: a DayMark at the end of each of its organisms' topics."""
        return caisse_day_marks(self.names, SOURCE, world, day, organisms)
