"""The pôle's day close (R3-R9, R11, R13, R16): once a business day D has gone through every
partition of both inputs, the day is done in one transaction, as the business does it:

1. validate: the accords delivered on D not validated by a technician, together (R4);
2. pay and settle recoveries: one payment per professional, less what they owe (R4, R13);
3. deliver: FSE checked on D to their pôle on D+1 in three groups (R3), Compagnon's notices
   for rejets (R9), the acts counted per professional (R22);
4. replace: rejected FSE replaced by their corrections (R7);
5. match: documents matched on D+1 (R8, R16);
6. close: every record through the outbox, then a DayMark closes D on each caisse topic and
   on pointage.settlements.

Each step reads and writes through adapters/postgres and returns its records (built by
adapters/day_records); the outbox keeps their order, a crash never loses nor doubles them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from fseflow import day_closer, outbox
from fseflow.contracts.claims.v1.claims_pb2 import BillingMode
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.db import Conn
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.topics import ORGANISM_PATTERN
from fseflow.vocabulary.acts import act_label
from pointage import metrics
from pointage.adapters import day_records
from pointage.adapters import postgres as pg
from pointage.adapters.events import PoleEvents
from pointage.domain import compagnon, recoveries, timeline
from pointage.domain.documents import needs_document

SERVICE = "pointage"
AUTOMATIC = "automatic"
PAPER = BillingMode.BILLING_MODE_PAPIER


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


@dataclass
class PoleDay:
    """The day being closed and what its steps hand to the next ones."""

    world: str
    day: date
    delivered_on: date
    summary: DaySummary = field(default_factory=DaySummary)
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (rectified, by)


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
        settlements_partitions: int,
    ) -> None:
        super().__init__(pool, relay, kafka, inputs)
        self.events = events
        self.settlements_partitions = settlements_partitions

    async def close_day(self, conn: Conn, world: str, day: date) -> DaySummary:
        pole = PoleDay(world, day, timeline.delivery_day(day))
        organisms = [o for o in await pg.organisms(conn, world) if ORGANISM_PATTERN.match(o)]
        await self.ensure_caisse_topics(organisms)
        records = await self.validate(conn, pole)
        records += await self.pay_and_settle(conn, pole)
        records += await self.deliver(conn, pole)
        records += await self.replace(conn, pole)
        records += await self.match(conn, pole)
        await self.close(conn, pole, organisms, records)
        return pole.summary

    async def validate(self, conn: Conn, pole: PoleDay) -> list[OutRecord]:
        validated = await pg.validate_accords(
            conn,
            pole.world,
            validated_on=pole.day,
            by=AUTOMATIC,
            pay_on=timeline.payment_day(pole.day, paper=False, received_on=pole.day),
            paper_mode=PAPER,
        )
        pole.summary.validated = len(validated)
        return day_records.validated(self.events, pole.world, pole.day, AUTOMATIC, validated)

    async def pay_and_settle(self, conn: Conn, pole: PoleDay) -> list[OutRecord]:
        world, day, summary = pole.world, pole.day, pole.summary
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
        for payment in payments:
            settlement = recoveries.settle(payment.gross_cents, owed.get(payment.ps_id, ()))
            applied += [(o.fse_id, o.amount_cents) for o in settlement.offsets]
            cancelled += settlement.cancelled
            made.append((payment, settlement.offset_cents))
            records.append(day_records.payment(self.events, world, day, payment, settlement))
            records += [
                day_records.notice(
                    self.events,
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
        for row in paid:
            claim = FseClassified.FromString(row["classified"]).fse
            records.append(day_records.fse_paid(self.events, world, day, row, claim, needs_document(claim)))
        return records

    async def deliver(self, conn: Conn, pole: PoleDay) -> list[OutRecord]:
        world, delivered_on = pole.world, pole.delivered_on
        delivered = sorted(await pg.deliver(conn, world, pole.day, delivered_on), key=lambda r: r["fse_id"])
        members = await pg.compagnon_members(conn, world) if delivered else set()
        acts: Counter[tuple[str, int, int]] = Counter()
        records: list[OutRecord] = []
        for row in delivered:
            records.append(day_records.delivered(self.events, world, row, delivered_on))
            acts[(row["ps_id"], row["received_on"].year, row["mode"])] += row["acts"]
            if row["rectifies"]:
                pole.corrections.append((row["rectifies"], row["fse_id"]))
            if row["classification"] == "rejet" and row["ps_id"] in members:
                text = compagnon.rejet_notice(row["fse_id"], row["reasons"].split())
                records.append(
                    day_records.notice(
                        self.events, world, row["organism"], row["ps_id"], row["fse_id"], delivered_on, text
                    )
                )
                pole.summary.notices += 1
        pole.summary.delivered = len(delivered)
        await pg.record_deliveries(
            conn, world, delivered_on, Counter((r["organism"], r["classification"]) for r in delivered)
        )
        await pg.count_acts(conn, world, dict(acts))
        return records + day_records.acts_counted(self.events, world, pole.day, acts)

    async def replace(self, conn: Conn, pole: PoleDay) -> list[OutRecord]:
        rows = await pg.replace(conn, pole.world, pole.corrections, pole.delivered_on)
        pole.summary.replaced += len(rows)
        return [day_records.replaced(self.events, pole.world, row, pole.delivered_on) for row in rows]

    async def match(self, conn: Conn, pole: PoleDay) -> list[OutRecord]:
        await pg.match_day_receipts(conn, pole.world, pole.day)
        rows = await pg.publish_matches(conn, pole.world, pole.delivered_on)
        pole.summary.matched += len(rows)
        return [record for row in rows for record in day_records.matched(self.events, pole.world, row)]

    async def close(self, conn: Conn, pole: PoleDay, organisms: list[str], records: list[OutRecord]) -> None:
        world, on = pole.world, pole.day.isoformat()
        await outbox.add(conn, pg.OUTBOX, records)
        marks = self.events.day_closed(world, on, organisms)
        marks += self.events.settlements_closed(world, on, self.settlements_partitions)
        await outbox.add(conn, pg.OUTBOX, marks, after=True)
        await pg.record_closed_day(conn, world, pole.day, pole.summary.counts())
        summary = pole.summary
        metrics.DAYS_CLOSED.inc()
        metrics.DELIVERED.inc(summary.delivered)
        metrics.VALIDATED.labels(AUTOMATIC).inc(summary.validated)
        metrics.PAID.inc(summary.paid)
        metrics.NOTICES.inc(summary.notices)
