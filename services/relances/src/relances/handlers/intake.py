"""The relances' intake (R13, R22): a stream processor over pointage.settlements, keyed by
professional. It opens a deadline for each FSE paid without its document, notes matches, keeps the
paid acts (for hospital stays learned late), first payments and act counts, and records the
pôle's DayMarks (the day close is handlers/day_close.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from google.protobuf.message import Message

from fseflow.codec import Envelope
from fseflow.contracts.pointage.v1.pointage_pb2 import ActsCounted, DocumentMatched, FsePaid
from fseflow.day_intake import DayBookIntake
from fseflow.db import Conn
from fseflow.vocabulary.acts import act_label
from fseflow.vocabulary.calendar import parse_day
from relances import metrics
from relances.adapters import postgres as pg
from relances.domain import deadlines
from relances.domain.deadlines import Step

log = logging.getLogger(__name__)


@dataclass
class IntakeBatch:
    opened: list[tuple[object, ...]] = field(default_factory=list)
    paid_acts: list[tuple[object, ...]] = field(default_factory=list)
    firsts: list[tuple[str, str, date]] = field(default_factory=list)
    matches: list[tuple[str, str, date]] = field(default_factory=list)
    counted: list[tuple[object, ...]] = field(default_factory=list)


class Intake(DayBookIntake[IntakeBatch]):
    def new_batch(self) -> IntakeBatch:
        return IntakeBatch()

    def add(self, batch: IntakeBatch, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if type(message) is FsePaid:
            self._paid(message, batch.opened, batch.paid_acts, batch.firsts)
        elif type(message) is DocumentMatched:
            batch.matches.append((message.world, message.fse_id, parse_day(message.matched_on)))
        elif type(message) is ActsCounted:
            batch.counted.append(
                (
                    message.world,
                    message.ps_id,
                    message.year,
                    message.mode,
                    parse_day(message.counted_on),
                    message.acts,
                )
            )

    async def store(self, conn: Conn, batch: IntakeBatch) -> None:
        await pg.open_deadlines(conn, batch.opened)
        await pg.add_paid_acts(conn, batch.paid_acts)
        await pg.note_first_payments(conn, batch.firsts)
        # After the openings: an FSE paid and matched the same day is opened, then matched.
        await pg.note_matches(conn, batch.matches)
        await pg.add_acts_counted(conn, batch.counted)

    def stored(self, batch: IntakeBatch) -> None:
        metrics.OPENED.inc(len(batch.opened))

    @staticmethod
    def _paid(
        event: FsePaid,
        opened: list[tuple[object, ...]],
        paid_acts: list[tuple[object, ...]],
        firsts: list[tuple[str, str, date]],
    ) -> None:
        paid_on = parse_day(event.paid_on)
        labels = "|".join(act_label(act) for act in event.acts)
        firsts.append((event.world, event.ps_id, paid_on))
        for act_on in sorted({parse_day(act.performed_on) for act in event.acts}):
            paid_acts.append(
                (
                    event.world,
                    event.nir,
                    act_on,
                    event.fse_id,
                    event.ps_id,
                    event.organism,
                    event.amount_cents,
                    paid_on,
                    labels,
                )
            )
        if event.needs_document and not event.document_matched_on:
            opened.append(
                (
                    event.world,
                    event.fse_id,
                    event.ps_id,
                    event.organism,
                    paid_on,
                    event.amount_cents,
                    labels,
                    Step.OVERDUE,
                    deadlines.due_day(paid_on, Step.OVERDUE),
                )
            )
