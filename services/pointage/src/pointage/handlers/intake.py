"""The pôle's intake (R3, R8, R16): a stream processor over cti.fse-classified and
scor.document-stored (both keyed by FSE id) and relances.orders. It stores FSE and documents,
matches them whatever their order of arrival, keeps the recovery orders for the payments, and
records the DayMarks of its inputs; the day close is handlers/day_close.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from fseflow.codec import Envelope
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.relances.v1.relances_pb2 import RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import DocumentStored
from fseflow.day_intake import DayBookIntake
from fseflow.db import Conn
from fseflow.topics import ORGANISM_PATTERN
from fseflow.vocabulary.calendar import parse_day
from fseflow.vocabulary.verdicts import classification_name, reason_name
from pointage import metrics
from pointage.adapters import postgres as pg


class MalformedEvent(ValueError):
    pass


def recovery_row(event: RecoveryOrdered) -> tuple[object, ...]:
    try:
        indu_on = parse_day(event.indu_on)
        recover_on = parse_day(event.recover_on)
    except ValueError as exc:
        raise MalformedEvent(f"indu_on/recover_on: {exc}") from exc
    if event.amount_cents <= 0:
        raise MalformedEvent(f"amount_cents: {event.amount_cents} is not a positive amount")
    return (
        event.world,
        event.fse_id,
        event.ps_id,
        event.organism,
        event.kind,
        event.amount_cents,
        indu_on,
        recover_on,
        event.cancellable,
    )


def fse_row(event: FseClassified, raw: bytes) -> tuple[object, ...]:
    if not ORGANISM_PATTERN.match(event.ps_organism):
        raise MalformedEvent(f"ps_organism: {event.ps_organism!r} is not RR-CCC")
    try:
        received_on = parse_day(event.received_on)
        checked_on = parse_day(event.checked_on)
    except ValueError as exc:
        raise MalformedEvent(f"received_on/checked_on: {exc}") from exc
    fse = event.fse
    return (
        event.world,
        event.fse_id,
        event.lot_id,
        event.ps_id,
        event.ps_organism,
        event.patient_organism,
        event.cti,
        fse.nir,
        fse.mode,
        received_on,
        checked_on,
        classification_name(event.classification),
        " ".join(reason_name(r) for r in event.reasons),
        event.amount_cents,
        len(fse.acts),
        fse.rectifies,
        raw,
    )


def document_row(event: DocumentStored) -> tuple[object, ...]:
    info = event.document
    meta = info.metadata
    try:
        received_on = parse_day(meta.received_on)
    except ValueError as exc:
        raise MalformedEvent(f"document.metadata.received_on: {exc}") from exc
    if not meta.fse_id:
        raise MalformedEvent("document.metadata.fse_id: empty")
    return (meta.world, meta.document_id, meta.fse_id, meta.ps_id, meta.kind, received_on, info.exploitable)


@dataclass
class IntakeBatch:
    fse: list[tuple[object, ...]] = field(default_factory=list)
    documents: list[tuple[object, ...]] = field(default_factory=list)
    orders: list[tuple[object, ...]] = field(default_factory=list)
    new_fse: list[tuple[str, str]] = field(default_factory=list)
    new_documents: list[tuple[str, str]] = field(default_factory=list)
    matched: int = 0


class Intake(DayBookIntake[IntakeBatch]):
    def new_batch(self) -> IntakeBatch:
        return IntakeBatch()

    def add(self, batch: IntakeBatch, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if type(message) is FseClassified:
            batch.fse.append(fse_row(message, envelope.record.value))
        elif type(message) is DocumentStored:
            batch.documents.append(document_row(message))
        elif type(message) is RecoveryOrdered:
            batch.orders.append(recovery_row(message))

    async def store(self, conn: Conn, batch: IntakeBatch) -> None:
        batch.new_fse = await pg.add_fse(conn, batch.fse)
        batch.new_documents = await pg.add_documents(conn, batch.documents)
        batch.matched = await pg.match(conn, batch.new_fse + batch.new_documents)
        await pg.add_recovery_orders(conn, batch.orders)

    def stored(self, batch: IntakeBatch) -> None:
        metrics.FSE_RECEIVED.inc(len(batch.new_fse))
        metrics.DOCUMENTS_RECEIVED.inc(len(batch.new_documents))
        metrics.MATCHED.inc(batch.matched)
