"""The records relances publishes: each caisse's relances topic, and recovery orders for the pôle."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message

from fseflow.business_clock import caisse_day_marks
from fseflow.codec import encode, event_id
from fseflow.contracts.pointage.v1.pointage_pb2 import NoticeSent
from fseflow.contracts.relances.v1.relances_pb2 import FseOverdue, RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted
from fseflow.kafka.base import OutRecord
from fseflow.topics import RECOVERY_ORDERS, TopicNames, caisse_topic

SOURCE = "relances"


class RelanceEvents:
    def __init__(self, names: TopicNames) -> None:
        self.names = names
        self.orders_topic = names(RECOVERY_ORDERS)

    def _caisse(self, message: Message, organism: str, ident: str, key: str) -> OutRecord:
        return encode(
            message,
            topic=self.names(caisse_topic(organism, "relances")),
            event_id=ident,
            source=SOURCE,
            key=key.encode(),
        )

    def overdue(self, event: FseOverdue) -> OutRecord:
        return self._caisse(
            event,
            event.organism,
            event_id("fse-overdue", event.world, event.fse_id),
            f"{event.world}/{event.fse_id}",
        )

    def notice(self, event: NoticeSent) -> OutRecord:
        ident = event_id("notice", event.world, event.kind, event.fse_id, event.sent_on)
        return self._caisse(event, event.organism, ident, f"{event.world}/{event.fse_id}")

    def recovery(self, event: RecoveryOrdered) -> list[OutRecord]:
        """The order for the pôle (which pays), and the same on the caisse's topic."""
        ident = event_id("recovery-ordered", event.world, event.fse_id)
        key = f"{event.world}/{event.fse_id}"
        return [
            encode(event, topic=self.orders_topic, event_id=ident, source=SOURCE, key=key.encode()),
            self._caisse(event, event.organism, ident, key),
        ]

    def aid(self, event: AidGranted, organism: str) -> OutRecord:
        ident = event_id("aid-granted", event.world, event.ps_id, event.kind, event.granted_on)
        return self._caisse(event, organism, ident, f"{event.world}/{event.ps_id}")

    def day_closed(self, world: str, day: str, organisms: Iterable[str]) -> list[OutRecord]:
        return caisse_day_marks(self.names, SOURCE, world, day, organisms)
