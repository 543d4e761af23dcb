"""The relances' day close (R13, R22): once the pôle has closed day D (its marks on every
partition), in one transaction: the deadlines due by D fire or are cancelled (an index range: only
what is due is read), hospital stays that became known by D give their indus, the aids due are
granted; the records go through the outbox, then a DayMark closes D on each caisse's relances
topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from fseflow import day_closer, outbox
from fseflow.contracts.pointage.v1.pointage_pb2 import NoticeSent
from fseflow.contracts.relances.v1.relances_pb2 import FseOverdue, RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted
from fseflow.db import Conn
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.topics import ORGANISM_PATTERN
from fseflow.vocabulary.calendar import previous_business_day
from relances import metrics
from relances.adapters import postgres as pg
from relances.adapters.events import RelanceEvents
from relances.domain import aids, deadlines, notices
from relances.domain.deadlines import Step

SERVICE = "relances"
DOCUMENT = "document"
HOSPITAL = "hospital"


@dataclass
class DaySummary:
    fired: int = 0
    cancelled: int = 0
    hospital: int = 0
    aids: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "fired": self.fired,
            "cancelled": self.cancelled,
            "hospital": self.hospital,
            "aids": self.aids,
        }


class DayCloser(day_closer.DayCloser):
    """Closes a day once the pôle has (its marks on every partition of pointage.settlements)."""

    stage = SERVICE
    marks_table = pg.DAY_MARKS
    closed_table = pg.CLOSED_DAYS

    def __init__(
        self,
        pool: asyncpg.Pool,
        events: RelanceEvents,
        relay: OutboxRelay,
        kafka: KafkaFactory,
        inputs: dict[str, int],
    ) -> None:
        super().__init__(pool, relay, kafka, inputs)
        self.events = events

    async def close_day(self, conn: Conn, world: str, day: date) -> DaySummary:
        summary = DaySummary()
        organisms = [o for o in await pg.organisms(conn, world) if ORGANISM_PATTERN.match(o)]
        await self.ensure_caisse_topics(organisms)
        records = await self._fire_deadlines(conn, world, day, summary)
        records += await self._hospital_stays(conn, world, day, summary)
        records += await self._aids(conn, world, day, summary)
        await outbox.add(conn, pg.OUTBOX, records)
        await outbox.add(
            conn, pg.OUTBOX, self.events.day_closed(world, day.isoformat(), organisms), after=True
        )
        await pg.record_closed_day(conn, world, day, summary.counts())
        metrics.DAYS_CLOSED.inc()
        return summary

    async def _fire_deadlines(
        self, conn: Conn, world: str, day: date, summary: DaySummary
    ) -> list[OutRecord]:
        records: list[OutRecord] = []
        moves: list[tuple[str, str, int | None, date | None]] = []
        orders: list[tuple[str, str, int, date, date]] = []
        ordered: dict[str, RecoveryOrdered] = {}
        for row in await pg.due_deadlines(conn, world, day):
            step = Step(row["step"])
            firing = deadlines.fire(step, row["due_on"], row["paid_on"], row["matched_on"])
            fse_id, due_on, paid_on = row["fse_id"], row["due_on"], row["paid_on"]
            if firing.fired is None:
                moves.append((fse_id, pg.CANCELLED, None, None))
                summary.cancelled += 1
                continue
            summary.fired += 1
            metrics.FIRED.labels(step.name.lower()).inc()
            if step is Step.OVERDUE:
                records.append(
                    self.events.overdue(
                        FseOverdue(
                            world=world,
                            organism=row["organism"],
                            fse_id=fse_id,
                            ps_id=row["ps_id"],
                            overdue_on=due_on.isoformat(),
                            paid_on=paid_on.isoformat(),
                        )
                    )
                )
            elif step is Step.REMINDER:
                indu_on = deadlines.due_day(paid_on, Step.INDU)
                text = notices.reminder(fse_id, row["acts"], row["amount_cents"], paid_on, indu_on)
                records.append(self._notice(world, row, "reminder", due_on, text))
            else:
                recover_on = deadlines.recovery_day(paid_on)
                text = notices.indu(fse_id, row["acts"], row["amount_cents"], paid_on, recover_on)
                records.append(self._notice(world, row, "indu", due_on, text))
                orders.append((fse_id, DOCUMENT, row["amount_cents"], due_on, recover_on))
                ordered[fse_id] = RecoveryOrdered(
                    world=world,
                    organism=row["organism"],
                    fse_id=fse_id,
                    ps_id=row["ps_id"],
                    kind=DOCUMENT,
                    amount_cents=row["amount_cents"],
                    indu_on=due_on.isoformat(),
                    recover_on=recover_on.isoformat(),
                    cancellable=True,
                )
            if firing.next_step is None:
                moves.append((fse_id, pg.ORDERED, None, None))
            else:
                moves.append((fse_id, pg.OPEN, int(firing.next_step), firing.next_due))
        await pg.move_deadlines(conn, world, moves)
        for fse_id in await pg.add_orders(conn, world, orders):
            records += self.events.recovery(ordered[fse_id])
        return records

    async def _hospital_stays(
        self, conn: Conn, world: str, day: date, summary: DaySummary
    ) -> list[OutRecord]:
        """Stays that became known since the previous business day (a weekend's included)."""
        records: list[OutRecord] = []
        cases: dict[str, asyncpg.Record] = {}
        for row in await pg.hospital_cases(conn, world, previous_business_day(day), day):
            if row["fse_id"] not in cases and deadlines.hospital_indu_applies(row["act_on"], row["known_on"]):
                cases[row["fse_id"]] = row
        orders = []
        for fse_id, row in cases.items():
            _indu_on, recover_on = deadlines.hospital_days(row["known_on"])
            orders.append((fse_id, HOSPITAL, row["amount_cents"], day, recover_on))
        new = set(await pg.add_orders(conn, world, orders))
        await pg.supersede(conn, world, sorted(new))
        for fse_id in sorted(new):
            row = cases[fse_id]
            _indu_on, recover_on = deadlines.hospital_days(row["known_on"])
            text = notices.hospital_indu(
                fse_id, row["acts"], row["amount_cents"], (row["stay_from"], row["stay_to"]), recover_on
            )
            records.append(self._notice(world, row, "indu", day, text))
            records += self.events.recovery(
                RecoveryOrdered(
                    world=world,
                    organism=row["organism"],
                    fse_id=fse_id,
                    ps_id=row["ps_id"],
                    kind=HOSPITAL,
                    amount_cents=row["amount_cents"],
                    indu_on=day.isoformat(),
                    recover_on=recover_on.isoformat(),
                    cancellable=False,
                )
            )
            summary.hospital += 1
            metrics.FIRED.labels("hospital").inc()
        return records

    async def _aids(self, conn: Conn, world: str, day: date, summary: DaySummary) -> list[OutRecord]:
        granted: list[tuple[str, str, date, int, str]] = []
        for row in await pg.first_fse_candidates(conn, world, day, aids.FIRST_FSE):
            if aids.first_fse_in_world(row["transmitting_since"], row["start_day"]):
                granted.append(
                    (
                        row["ps_id"],
                        aids.FIRST_FSE,
                        row["first_paid_on"],
                        aids.FIRST_FSE_CENTS,
                        row["organism"],
                    )
                )
        if aids.is_first_business_day_of_year(day):
            for row in await pg.acts_of_year(conn, world, day.year - 1):
                if aids.earns_teletransmission_aid(int(row["electronic"] or 0), int(row["total"] or 0)):
                    granted.append(
                        (
                            row["ps_id"],
                            aids.TELETRANSMISSION,
                            day,
                            aids.TELETRANSMISSION_CENTS,
                            row["organism"],
                        )
                    )
        await pg.grant_aids(conn, world, [g[:4] for g in granted])
        summary.aids = len(granted)
        return [
            self.events.aid(
                AidGranted(world=world, ps_id=ps, kind=kind, granted_on=on.isoformat(), amount_cents=cents),
                organism,
            )
            for ps, kind, on, cents, organism in granted
        ]

    def _notice(self, world: str, row: asyncpg.Record, kind: str, on: date, text: str) -> OutRecord:
        metrics.NOTICES.labels(kind).inc()
        return self.events.notice(
            NoticeSent(
                world=world,
                organism=row["organism"],
                ps_id=row["ps_id"],
                kind=kind,
                sent_on=on.isoformat(),
                fse_id=row["fse_id"],
                text=text,
            )
        )
