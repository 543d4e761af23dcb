"""The departmental pôle's use cases (R3-R9, R11, R16).

- ``Intake`` (a stream processor over cti.fse-classified and scor.document-stored, both keyed
  by FSE id): stores FSE and documents, matches them whatever their order of arrival, and
  records the DayMarks of its inputs.
- ``DayCloser``: once a business day D has gone through every partition of both inputs, the
  pôle's day is done in one transaction: accords delivered on D validated, payments due by D
  made, FSE checked by D delivered (with Compagnon notices and replacements by corrections),
  matches of D+1 published, then a DayMark closes D on each caisse topic.
- ``Decisions``: a technician's decisions (console or API): a litigieuse decided, or the
  day's accords validated in one action.

Outputs go through the transactional outbox: a crash never loses nor doubles them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import asyncpg
from google.protobuf.message import Message

from fseflow import day_book, day_closer, outbox
from fseflow.business_clock import ClockFollower
from fseflow.codec import Envelope
from fseflow.contracts.claims.v1.claims_pb2 import BillingMode, Fse
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.pointage.v1.pointage_pb2 import (
    ActsCounted,
    DecisionRecorded,
    DocumentMatched,
    FseDelivered,
    FsePaid,
    FseReplaced,
    LitigieuseDecided,
    NoticeSent,
    PaymentLine,
    PaymentMade,
    RecoveryLine,
)
from fseflow.contracts.relances.v1.relances_pb2 import RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import DocumentStored
from fseflow.db import Conn
from fseflow.dead_letters import dead_letter
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.streams import HandlerResult
from fseflow.topics import ORGANISM_PATTERN
from fseflow.vocabulary.acts import act_label
from fseflow.vocabulary.calendar import parse_day
from fseflow.vocabulary.verdicts import classification_name, reason_name
from pointage import metrics
from pointage.adapters import postgres as pg
from pointage.adapters.events import PoleEvents
from pointage.domain import compagnon, recoveries, timeline

log = logging.getLogger(__name__)
SERVICE = "pointage"
AUTOMATIC = "automatic"
PAPER = BillingMode.BILLING_MODE_PAPIER
ELECTRONIC = (BillingMode.BILLING_MODE_SECURISE, BillingMode.BILLING_MODE_DEGRADE)


class MalformedEvent(ValueError):
    pass


DI_CODE = "DI"


def needs_document(fse: Fse) -> bool:
    """R19: no prescription for an encoded "suite de soins", nor for care covered by a DSI (but a
    DI act needs its prescription). Everything else waits for its document (R18)."""
    if fse.suite_de_soins:
        return False
    return not (fse.dsi_sent and all(act.code != DI_CODE for act in fse.acts))


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


class Intake:
    def __init__(self, pool: asyncpg.Pool, closer: DayCloser, dlq_topic: str) -> None:
        self.pool = pool
        self.closer = closer
        self.dlq_topic = dlq_topic

    async def __call__(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        fse_rows: list[tuple[object, ...]] = []
        document_rows: list[tuple[object, ...]] = []
        orders: list[tuple[object, ...]] = []
        marks: list[pg.MarkRow] = []
        dead: list[OutRecord] = []
        for envelope in envelopes:
            message = envelope.message
            try:
                if type(message) is FseClassified:
                    fse_rows.append(fse_row(message, envelope.record.value))
                elif type(message) is DocumentStored:
                    document_rows.append(document_row(message))
                elif type(message) is RecoveryOrdered:
                    orders.append(recovery_row(message))
                elif type(message) is DayMark:
                    marks.append(day_book.mark_row(message, envelope.record))
            except (MalformedEvent, ValueError) as exc:
                dead.append(
                    dead_letter(
                        service=SERVICE,
                        dlq_topic=self.dlq_topic,
                        record=envelope.record,
                        error=exc,
                        event=envelope.event_id,
                    )
                )
        async with self.pool.acquire() as conn, conn.transaction():
            new_fse = await pg.add_fse(conn, fse_rows)
            new_documents = await pg.add_documents(conn, document_rows)
            matched = await pg.match(conn, new_fse + new_documents)
            await pg.add_recovery_orders(conn, orders)
            await pg.add_marks(conn, marks)
        metrics.FSE_RECEIVED.inc(len(new_fse))
        metrics.DOCUMENTS_RECEIVED.inc(len(new_documents))
        metrics.MATCHED.inc(matched)
        for world in sorted({mark[0] for mark in marks}):
            await self.closer.close_ready_days(world)
        return HandlerResult(records=dead)


@dataclass
class DaySummary:
    delivered: int = 0
    validated: int = 0
    paid: int = 0
    matched: int = 0
    notices: int = 0
    replaced: int = 0
    recovered: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "validated": self.validated,
            "paid": self.paid,
            "matched": self.matched,
        }


class DayCloser(day_closer.DayCloser):
    stage = SERVICE
    marks_table = pg.DAY_MARKS
    closed_table = pg.CLOSED_DAYS

    def __init__(
        self,
        pool: asyncpg.Pool,
        events: PoleEvents,
        relay: OutboxRelay,
        kafka: KafkaFactory,
        inputs: dict[str, int],
        settlements_partitions: int = 8,
    ) -> None:
        super().__init__(pool, relay, kafka, inputs)
        self.events = events
        self.settlements_partitions = settlements_partitions

    async def close_day(self, conn: Conn, world: str, day: date) -> DaySummary:
        summary = DaySummary()
        records: list[OutRecord] = []
        delivered_on = timeline.delivery_day(day)
        organisms = [o for o in await pg.organisms(conn, world) if ORGANISM_PATTERN.match(o)]
        await self.ensure_caisse_topics(organisms)

        # 1. The accords delivered today not validated by a technician: validated together (R4).
        validated = await pg.validate_accords(
            conn,
            world,
            validated_on=day,
            by=AUTOMATIC,
            pay_on=timeline.payment_day(day, paper=False, received_on=day),
            paper_mode=PAPER,
        )
        records += self._validated_records(world, day, AUTOMATIC, validated)
        summary.validated = len(validated)

        # 2. Payments due: one per professional (R4), less what they owe (R13).
        records += await self._pay(conn, world, day, summary)

        # 3. Today's checked FSE delivered to their pôle tomorrow, in three groups (R3).
        delivered = sorted(await pg.deliver(conn, world, day, delivered_on), key=lambda r: r["fse_id"])
        members = await pg.compagnon_members(conn, world) if delivered else set()
        acts: Counter[tuple[str, int, int]] = Counter()
        corrections = []
        for row in delivered:
            paper = row["mode"] == PAPER
            reasons = row["reasons"].split()
            records.append(
                self.events.delivered(
                    FseDelivered(
                        world=world,
                        fse_id=row["fse_id"],
                        lot_id=row["lot_id"],
                        ps_id=row["ps_id"],
                        organism=row["organism"],
                        patient_organism=row["patient_organism"],
                        cti=row["cti"],
                        received_on=row["received_on"].isoformat(),
                        delivered_on=delivered_on.isoformat(),
                        classification=row["classification"],
                        reasons=reasons,
                        amount_cents=row["amount_cents"],
                        mode=row["mode"],
                        acts=row["acts"],
                        cost_cents=timeline.cost_cents(paper=paper),
                        rectifies=row["rectifies"],
                    )
                )
            )
            acts[(row["ps_id"], row["received_on"].year, row["mode"])] += row["acts"]
            if row["rectifies"]:
                corrections.append((row["rectifies"], row["fse_id"]))
            if row["classification"] == "rejet" and row["ps_id"] in members:
                records.append(
                    self._notice(
                        world,
                        row["organism"],
                        row["ps_id"],
                        row["fse_id"],
                        delivered_on,
                        compagnon.rejet_notice(row["fse_id"], reasons),
                    )
                )
                summary.notices += 1
        summary.delivered = len(delivered)
        await pg.record_deliveries(
            conn, world, delivered_on, Counter((r["organism"], r["classification"]) for r in delivered)
        )
        await pg.count_acts(conn, world, dict(acts))
        records += [
            self.events.acts_counted(
                ActsCounted(
                    world=world,
                    ps_id=ps,
                    year=year,
                    mode=BillingMode.Name(mode),
                    acts=count,
                    counted_on=day.isoformat(),
                )
            )
            for (ps, year, mode), count in sorted(acts.items())
        ]
        for row in await pg.replace(conn, world, corrections, delivered_on):
            records.append(
                self.events.replaced(
                    FseReplaced(
                        world=world,
                        organism=row["organism"],
                        fse_id=row["fse_id"],
                        replaced_by=row["by"],
                        replaced_on=delivered_on.isoformat(),
                    )
                )
            )
            summary.replaced += 1

        # 4. Pointage: documents matched tomorrow (R8, R16).
        await pg.match_day_receipts(conn, world, day)
        for row in await pg.publish_matches(conn, world, delivered_on):
            matched = DocumentMatched(
                world=world,
                organism=row["organism"],
                fse_id=row["fse_id"],
                document_id=row["document_id"],
                matched_on=row["matched_on"].isoformat(),
            )
            records.append(self.events.matched(matched))
            records.append(self.events.match_settled(matched, row["ps_id"]))
            summary.matched += 1

        await outbox.add(conn, pg.OUTBOX, records)
        marks = self.events.day_closed(world, day.isoformat(), organisms)
        marks += self.events.settlements_closed(world, day.isoformat(), self.settlements_partitions)
        await outbox.add(conn, pg.OUTBOX, marks, after=True)
        await pg.record_closed_day(conn, world, day, summary.counts())
        metrics.DAYS_CLOSED.inc()
        metrics.DELIVERED.inc(summary.delivered)
        metrics.VALIDATED.labels(AUTOMATIC).inc(summary.validated)
        metrics.PAID.inc(summary.paid)
        metrics.NOTICES.inc(summary.notices)
        return summary

    async def _pay(self, conn: Conn, world: str, day: date, summary: DaySummary) -> list[OutRecord]:
        payments, paid = await pg.pay_due(conn, world, day)
        owed: dict[str, list[recoveries.OpenRecovery]] = defaultdict(list)
        acts_of: dict[str, list[str]] = {}
        for row in await pg.open_recoveries(conn, world, [p.ps_id for p in payments], day):
            if row["classified"] is not None:
                claim = FseClassified.FromString(row["classified"]).fse
                acts_of[row["fse_id"]] = [act_label(act) for act in claim.acts]
            owed[row["ps_id"]].append(
                recoveries.OpenRecovery(
                    row["fse_id"],
                    row["kind"],
                    row["amount_cents"],
                    row["applied_cents"],
                    row["recover_on"],
                    row["cancellable"],
                    row["document_matched_on"],
                )
            )
        records: list[OutRecord] = []
        applied: list[tuple[str, int]] = []
        cancelled: list[str] = []
        made: list[tuple[pg.PaymentRow, int]] = []
        on = day.isoformat()
        for payment in payments:
            settlement = recoveries.settle(payment.gross_cents, owed.get(payment.ps_id, ()))
            applied += [(o.fse_id, o.amount_cents) for o in settlement.offsets]
            cancelled += settlement.cancelled
            made.append((payment, settlement.offset_cents))
            records.append(
                self.events.payment(
                    PaymentMade(
                        world=world,
                        organism=payment.organism,
                        payment_id=payment.payment_id,
                        ps_id=payment.ps_id,
                        paid_on=on,
                        gross_cents=payment.gross_cents,
                        offset_cents=settlement.offset_cents,
                        net_cents=payment.gross_cents - settlement.offset_cents,
                        lines=[PaymentLine(fse_id=f, amount_cents=a) for f, a in payment.lines],
                        recoveries=[
                            RecoveryLine(
                                fse_id=o.fse_id,
                                amount_cents=o.amount_cents,
                                kind=o.kind,
                                remaining_cents=o.remaining_cents,
                            )
                            for o in settlement.offsets
                        ],
                    )
                )
            )
            records += [
                self._notice(
                    world,
                    payment.organism,
                    payment.ps_id,
                    o.fse_id,
                    day,
                    recoveries.notice_text(o, acts_of.get(o.fse_id, ()), day),
                    kind="recovery",
                )
                for o in settlement.offsets
            ]
            summary.paid += len(payment.lines)
            summary.recovered += settlement.offset_cents
        await pg.record_payments(conn, world, day, made)
        await pg.settle_recoveries(conn, world, day, applied, cancelled)
        # J0 of each FSE paid, for the relances.
        for row in paid:
            claim = FseClassified.FromString(row["classified"]).fse
            matched = row["document_matched_on"]
            records.append(
                self.events.fse_paid(
                    FsePaid(
                        world=world,
                        fse_id=row["fse_id"],
                        ps_id=row["ps_id"],
                        organism=row["organism"],
                        nir=row["nir"],
                        paid_on=on,
                        amount_cents=row["amount_cents"],
                        acts=claim.acts,
                        needs_document=needs_document(claim),
                        document_matched_on=matched.isoformat() if matched else "",
                        payment_id=row["payment_id"],
                    )
                )
            )
        return records

    def _validated_records(
        self, world: str, day: date, by: str, rows: list[asyncpg.Record]
    ) -> list[OutRecord]:
        per_organism: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in rows:
            per_organism[row["organism"]].append((row["fse_id"], row["pay_on"].isoformat()))
        return [
            record
            for organism, fse in sorted(per_organism.items())
            for record in self.events.validated(world, organism, day.isoformat(), by, fse)
        ]

    def _notice(
        self, world: str, organism: str, ps_id: str, fse_id: str, on: date, text: str, kind: str = "compagnon"
    ) -> OutRecord:
        return self.events.notice(
            NoticeSent(
                world=world,
                organism=organism,
                ps_id=ps_id,
                kind=kind,
                sent_on=on.isoformat(),
                fse_id=fse_id,
                text=text,
            )
        )


class DecisionRefused(Exception):
    """A decision that cannot be taken: HTTP ``status``, the ``field`` at fault and why."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


OUTCOMES = ("accord", "rejet")


class Decisions:
    """A technician's decisions: the same use cases for the console and the API (R4, R5)."""

    def __init__(
        self, pool: asyncpg.Pool, closer: DayCloser, relay: OutboxRelay, clock: ClockFollower
    ) -> None:
        self.pool = pool
        self.closer = closer
        self.events = closer.events
        self.relay = relay
        self.clock = clock
        # One world's decisions at a time in this process: the outbox keeps their order.
        self._lock = asyncio.Lock()

    def decision_day(self, world: str, on: date | None) -> date:
        """The day a decision takes effect: the one given (a replay), else the world's open day."""
        if on is not None:
            return on
        open_day = self.clock.open_day(world)
        if open_day is None:
            raise DecisionRefused(409, "world", f"world {world!r} has no closed business day yet")
        return open_day

    async def decide(
        self,
        *,
        world: str,
        fse_id: str,
        outcome: str,
        technician: str,
        on: date | None = None,
        organism: str | None = None,
    ) -> dict[str, object]:
        if outcome not in OUTCOMES:
            raise DecisionRefused(400, "outcome", f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
        if not technician:
            raise DecisionRefused(400, "technician", "required")
        async with self._lock:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await pg.fse_for_update(conn, world, fse_id)
                # Another organism's FSE is answered as one that does not exist, before anything else.
                if row is None or (organism is not None and row["organism"] != organism):
                    raise DecisionRefused(404, "fse", f"no FSE {fse_id!r} in this pôle")
                day = self.decision_day(world, on)
                if row["state"] != pg.PENDING_REVIEW:
                    if _same_decision(row, outcome, technician):
                        return _decision_view(row, already=True)
                    raise DecisionRefused(
                        409, "fse", f"FSE {fse_id} is {row['state']}, not waiting for a technician's decision"
                    )
                if row["delivered_on"] > day:
                    raise DecisionRefused(
                        409, "on", f"FSE {fse_id} reaches the pôle on {row['delivered_on']}, after {day}"
                    )
                records = await self._decide(conn, row, outcome, technician, day)
                await outbox.add(conn, pg.OUTBOX, records)
                decided = await pg.fse(conn, world, fse_id)
            await self.relay.flush()
        metrics.DECIDED.labels(outcome).inc()
        assert decided is not None
        return _decision_view(decided, already=False)

    async def _decide(
        self, conn: Conn, row: asyncpg.Record, outcome: str, technician: str, day: date
    ) -> list[OutRecord]:
        world, fse_id, organism = row["world"], row["fse_id"], row["organism"]
        accord = outcome == "accord"
        pay_on = (
            timeline.payment_day(day, paper=row["mode"] == PAPER, received_on=row["received_on"])
            if accord
            else None
        )
        await pg.decide(
            conn,
            world,
            fse_id,
            state=pg.VALIDATED if accord else pg.REJECTED,
            decided_on=day,
            by=technician,
            pay_on=pay_on,
        )
        fse = FseClassified.FromString(row["classified"]).fse
        records = [
            self.events.decided(
                LitigieuseDecided(
                    world=world,
                    organism=organism,
                    fse_id=fse_id,
                    outcome=outcome,
                    decided_on=day.isoformat(),
                    technician=technician,
                    pay_on=pay_on.isoformat() if pay_on else "",
                )
            ),
            self.events.decision_recorded(
                DecisionRecorded(
                    world=world,
                    fse_id=fse_id,
                    outcome=outcome,
                    decided_on=day.isoformat(),
                    ps_id=row["ps_id"],
                    nir=row["nir"],
                    acts=fse.acts,
                )
            ),
        ]
        if not accord and row["ps_id"] in await pg.compagnon_members(conn, world):
            records.append(
                self.closer._notice(
                    world,
                    organism,
                    row["ps_id"],
                    fse_id,
                    day,
                    compagnon.decided_rejet_notice(fse_id, row["reasons"].split(), technician),
                )
            )
            metrics.NOTICES.inc()
        return records

    async def validate_all(
        self, *, world: str, organism: str, technician: str, on: date | None = None
    ) -> dict[str, object]:
        """The "validate all accords" action: one statement for the organism's delivered accords."""
        if not ORGANISM_PATTERN.match(organism):
            raise DecisionRefused(400, "organism", f"{organism!r} is not RR-CCC")
        if not technician:
            raise DecisionRefused(400, "technician", "required")
        day = self.decision_day(world, on)
        async with self._lock:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await pg.validate_accords(
                    conn,
                    world,
                    validated_on=day,
                    by=technician,
                    pay_on=timeline.payment_day(day, paper=False, received_on=day),
                    paper_mode=PAPER,
                    organism=organism,
                )
                await outbox.add(
                    conn, pg.OUTBOX, self.closer._validated_records(world, day, technician, rows)
                )
            await self.relay.flush()
        metrics.VALIDATED.labels("technician").inc(len(rows))
        return {"world": world, "organism": organism, "validated_on": day.isoformat(), "validated": len(rows)}


def _same_decision(row: asyncpg.Record, outcome: str, technician: str) -> bool:
    """A decision sent again (a retried request) is answered, not refused."""
    if row["decided_by"] != technician:
        return False
    if outcome == "accord":
        return bool(row["state"] in (pg.VALIDATED, pg.PAID))
    return bool(row["state"] in (pg.REJECTED, pg.REPLACED))


def _decision_view(row: asyncpg.Record, *, already: bool) -> dict[str, object]:
    return {
        "world": row["world"],
        "fse": row["fse_id"],
        "state": row["state"],
        "decided_on": row["decided_on"].isoformat() if row["decided_on"] else None,
        "decided_by": row["decided_by"],
        "pay_on": row["pay_on"].isoformat() if row["pay_on"] else None,
        "already_decided": already,
    }
