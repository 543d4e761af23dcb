"""The pôle's rows as the records it publishes: protobuf is built here, at the edge, from what the
day's steps and the decisions read and decided (adapters/events.py names topics, keys and ids)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

import asyncpg

from fseflow.contracts.claims.v1.claims_pb2 import BillingMode, Fse
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
from fseflow.kafka.base import OutRecord
from pointage.adapters.events import PoleEvents
from pointage.adapters.postgres import PaymentRow
from pointage.domain import recoveries, timeline

PAPER = BillingMode.BILLING_MODE_PAPIER


def validated(
    events: PoleEvents, world: str, day: date, by: str, rows: Iterable[asyncpg.Record]
) -> list[OutRecord]:
    """Accords validated together (by the day's close or a technician), per organism."""
    per_organism: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        per_organism[row["organism"]].append((row["fse_id"], row["pay_on"].isoformat()))
    return [
        record
        for organism, fse in sorted(per_organism.items())
        for record in events.validated(world, organism, day.isoformat(), by, fse)
    ]


def notice(
    events: PoleEvents,
    world: str,
    organism: str,
    ps_id: str,
    fse_id: str,
    on: date,
    text: str,
    kind: str = "compagnon",
) -> OutRecord:
    return events.notice(
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


def delivered(events: PoleEvents, world: str, row: asyncpg.Record, delivered_on: date) -> OutRecord:
    return events.delivered(
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
            reasons=row["reasons"].split(),
            amount_cents=row["amount_cents"],
            mode=row["mode"],
            acts=row["acts"],
            cost_cents=timeline.cost_cents(paper=row["mode"] == PAPER),
            rectifies=row["rectifies"],
        )
    )


def acts_counted(
    events: PoleEvents, world: str, day: date, counts: Mapping[tuple[str, int, int], int]
) -> list[OutRecord]:
    return [
        events.acts_counted(
            ActsCounted(
                world=world,
                ps_id=ps,
                year=year,
                mode=BillingMode.Name(mode),
                acts=count,
                counted_on=day.isoformat(),
            )
        )
        for (ps, year, mode), count in sorted(counts.items())
    ]


def replaced(events: PoleEvents, world: str, row: asyncpg.Record, replaced_on: date) -> OutRecord:
    return events.replaced(
        FseReplaced(
            world=world,
            organism=row["organism"],
            fse_id=row["fse_id"],
            replaced_by=row["by"],
            replaced_on=replaced_on.isoformat(),
        )
    )


def matched(events: PoleEvents, world: str, row: asyncpg.Record) -> list[OutRecord]:
    """A document matched: for the caisse, and settled for the relances."""
    event = DocumentMatched(
        world=world,
        organism=row["organism"],
        fse_id=row["fse_id"],
        document_id=row["document_id"],
        matched_on=row["matched_on"].isoformat(),
    )
    return [events.matched(event), events.match_settled(event, row["ps_id"])]


def payment(
    events: PoleEvents, world: str, on: date, payment: PaymentRow, settlement: recoveries.Settlement
) -> OutRecord:
    return events.payment(
        PaymentMade(
            world=world,
            organism=payment.organism,
            payment_id=payment.payment_id,
            ps_id=payment.ps_id,
            paid_on=on.isoformat(),
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


def fse_paid(
    events: PoleEvents, world: str, on: date, row: asyncpg.Record, claim: Fse, needs_document: bool
) -> OutRecord:
    """J0 of an FSE paid, for the relances."""
    matched_on = row["document_matched_on"]
    return events.fse_paid(
        FsePaid(
            world=world,
            fse_id=row["fse_id"],
            ps_id=row["ps_id"],
            organism=row["organism"],
            nir=row["nir"],
            paid_on=on.isoformat(),
            amount_cents=row["amount_cents"],
            acts=claim.acts,
            needs_document=needs_document,
            document_matched_on=matched_on.isoformat() if matched_on else "",
            payment_id=row["payment_id"],
        )
    )


def decided(
    events: PoleEvents,
    row: asyncpg.Record,
    claim: Fse,
    *,
    outcome: str,
    technician: str,
    day: date,
    pay_on: date | None,
) -> list[OutRecord]:
    """A litigieuse decided: for the caisse, and for the national check (its acts)."""
    world, fse_id = row["world"], row["fse_id"]
    return [
        events.decided(
            LitigieuseDecided(
                world=world,
                organism=row["organism"],
                fse_id=fse_id,
                outcome=outcome,
                decided_on=day.isoformat(),
                technician=technician,
                pay_on=pay_on.isoformat() if pay_on else "",
            )
        ),
        events.decision_recorded(
            DecisionRecorded(
                world=world,
                fse_id=fse_id,
                outcome=outcome,
                decided_on=day.isoformat(),
                ps_id=row["ps_id"],
                nir=row["nir"],
                acts=claim.acts,
            )
        ),
    ]
