"""scor-store's day closure work (R14, R17): the purge of what reached 33 months, the quality aids
whose day has come. The shared clock relay runs it, then closes the day on scor-store's outputs."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import asyncpg

from fseflow.contracts.scor.v1.scor_pb2 import AidGranted
from fseflow.db import Conn
from fseflow.kafka.base import OutRecord
from scor_store import metrics
from scor_store.adapters.events import ScorEvents
from scor_store.adapters.postgres import AidDecision, Aids, AuditEntry
from scor_store.domain import lifecycle
from scor_store.handlers.documents import ScorStore

log = logging.getLogger(__name__)
SCOR_AID = "scor-90"
RETENTION_SUBJECT = "scor-store retention (R12)"


class DayClosures:
    """On each closed business day: purge what reached 33 months, decide the quality aids whose
    day has come (the shared clock relay then closes the day on scor-store's output topics)."""

    def __init__(self, pool: asyncpg.Pool, store: ScorStore, aids: Aids, events: ScorEvents) -> None:
        self.pool = pool
        self.store = store
        self.aids = aids
        self.events = events

    async def __call__(self, world: str, day: date) -> list[OutRecord]:
        return [self.events.aid(aid) for aid in await self.close(world, day)]

    async def close(self, world: str, day: date) -> list[AidGranted]:
        async with self.pool.acquire() as conn, conn.transaction():
            await self._purge(conn, world, day)
            for candidate in await self.aids.undecided(
                conn, world, SCOR_AID, day - timedelta(days=lifecycle.AID_DAYS - 1)
            ):
                aid_on = lifecycle.aid_day(candidate.scor_since)
                if aid_on > day:
                    continue
                start, end = lifecycle.aid_window(candidate.scor_since)
                exploitable, count = await self.aids.window_counts(conn, world, candidate.ps_id, start, end)
                decision = AidDecision(
                    candidate.ps_id,
                    SCOR_AID,
                    aid_on,
                    lifecycle.aid_granted(exploitable, count),
                    exploitable,
                    count,
                )
                await self.aids.decide(conn, world, decision, day)
            granted = await self.aids.granted_at_closure(conn, world, day)
        return [
            AidGranted(
                world=world,
                ps_id=g.ps_id,
                kind=g.kind,
                granted_on=g.aid_on.isoformat(),
                amount_cents=lifecycle.AID_AMOUNT_CENTS,
                exploitable_documents=g.exploitable,
                documents=g.documents,
            )
            for g in granted
        ]

    async def _purge(self, conn: Conn, world: str, day: date) -> None:
        horizon = lifecycle.add_months(day, -lifecycle.RETENTION_MONTHS)
        due = [
            row
            for row in await self.store.documents.received_until(conn, world, horizon)
            if lifecycle.purge_day(row.received_on) <= day
        ]
        for row in due:
            await asyncio.to_thread(self.store.vault.purge, world, row.document_id)
            await self.store.audit.record(
                AuditEntry(
                    world,
                    row.document_id,
                    "purge",
                    RETENTION_SUBJECT,
                    "service:scor-store",
                    True,
                    f"retention ended, day {day}",
                )
            )
        if due:
            await self.store.documents.mark_purged(conn, world, [r.document_id for r in due], day)
            metrics.PURGED.inc(len(due))
            log.info("purged %d document(s) of world %s on %s", len(due), world, day)
