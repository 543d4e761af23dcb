"""The relances' intake (R13, R22): a stream processor over pointage.settlements, keyed by
professional. It opens a deadline for each FSE paid without its document, notes matches, keeps the
paid acts (for hospital stays learned late), first payments and act counts, and records the
pôle's DayMarks (the day close is handlers/day_close.py).
"""

from __future__ import annotations

import logging
from datetime import date

import asyncpg
from google.protobuf.message import Message

from fseflow import day_book
from fseflow.codec import Envelope
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.pointage.v1.pointage_pb2 import ActsCounted, DocumentMatched, FsePaid
from fseflow.dead_letters import dead_letter
from fseflow.kafka.base import OutRecord
from fseflow.streams import HandlerResult
from fseflow.vocabulary.acts import act_label
from fseflow.vocabulary.calendar import parse_day
from relances import metrics
from relances.adapters import postgres as pg
from relances.domain import deadlines
from relances.domain.deadlines import Step
from relances.handlers.day_close import SERVICE, DayCloser

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, pool: asyncpg.Pool, closer: DayCloser, dlq_topic: str) -> None:
        self.pool = pool
        self.closer = closer
        self.dlq_topic = dlq_topic

    async def __call__(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        opened: list[tuple[object, ...]] = []
        paid_acts: list[tuple[object, ...]] = []
        firsts: list[tuple[str, str, date]] = []
        matches: list[tuple[str, str, date]] = []
        counted: list[tuple[object, ...]] = []
        marks: list[pg.MarkRow] = []
        dead: list[OutRecord] = []
        for envelope in envelopes:
            message = envelope.message
            try:
                if type(message) is FsePaid:
                    self._paid(message, opened, paid_acts, firsts)
                elif type(message) is DocumentMatched:
                    matches.append((message.world, message.fse_id, parse_day(message.matched_on)))
                elif type(message) is ActsCounted:
                    counted.append(
                        (
                            message.world,
                            message.ps_id,
                            message.year,
                            message.mode,
                            parse_day(message.counted_on),
                            message.acts,
                        )
                    )
                elif type(message) is DayMark:
                    marks.append(day_book.mark_row(message, envelope.record))
            except ValueError as exc:
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
            await pg.open_deadlines(conn, opened)
            await pg.add_paid_acts(conn, paid_acts)
            await pg.note_first_payments(conn, firsts)
            # After the openings: an FSE paid and matched the same day is opened, then matched.
            await pg.note_matches(conn, matches)
            await pg.add_acts_counted(conn, counted)
            await pg.add_marks(conn, marks)
        metrics.OPENED.inc(len(opened))
        for world in sorted({mark[0] for mark in marks}):
            await self.closer.close_ready_days(world)
        return HandlerResult(records=dead)

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
