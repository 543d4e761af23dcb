"""A technician's decisions (R4, R5, R9): a litigieuse decided, or the day's accords validated in
one action. The same use cases for the console and the API, which map a refusal's kind to their
answer (entrypoints/api.py: HTTP statuses)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Literal

import asyncpg

from fseflow import outbox
from fseflow.business_clock import ClockFollower
from fseflow.contracts.claims.v1.claims_pb2 import BillingMode
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.db import Conn
from fseflow.kafka.base import OutRecord
from fseflow.outbox import OutboxRelay
from fseflow.topics import ORGANISM_PATTERN
from pointage import metrics
from pointage.adapters import day_records
from pointage.adapters import postgres as pg
from pointage.adapters.events import PoleEvents
from pointage.domain import compagnon, timeline

PAPER = BillingMode.BILLING_MODE_PAPIER
OUTCOMES = ("accord", "rejet")
# invalid: the request is wrong; not_found: no such FSE here; conflict: not now, or not any more.
Refusal = Literal["invalid", "not_found", "conflict"]


class DecisionRefused(Exception):
    """A decision that cannot be taken: what kind of refusal, the ``field`` at fault and why."""

    def __init__(self, kind: Refusal, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.kind = kind
        self.field = field
        self.message = message


class Decisions:
    """A technician's decisions: the same use cases for the console and the API (R4, R5)."""

    def __init__(
        self, pool: asyncpg.Pool, events: PoleEvents, relay: OutboxRelay, clock: ClockFollower
    ) -> None:
        self.pool = pool
        self.events = events
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
            raise DecisionRefused("conflict", "world", f"world {world!r} has no closed business day yet")
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
            raise DecisionRefused("invalid", "outcome", f"{outcome!r} is not one of {', '.join(OUTCOMES)}")
        if not technician:
            raise DecisionRefused("invalid", "technician", "required")
        async with self._lock:
            async with self.pool.acquire() as conn, conn.transaction():
                row = await pg.fse_for_update(conn, world, fse_id)
                # Another organism's FSE is answered as one that does not exist, before anything else.
                if row is None or (organism is not None and row["organism"] != organism):
                    raise DecisionRefused("not_found", "fse", f"no FSE {fse_id!r} in this pôle")
                day = self.decision_day(world, on)
                if row["state"] != pg.PENDING_REVIEW:
                    if _same_decision(row, outcome, technician):
                        return _decision_view(row, already=True)
                    raise DecisionRefused(
                        "conflict",
                        "fse",
                        f"FSE {fse_id} is {row['state']}, not waiting for a technician's decision",
                    )
                if row["delivered_on"] > day:
                    raise DecisionRefused(
                        "conflict",
                        "on",
                        f"FSE {fse_id} reaches the pôle on {row['delivered_on']}, after {day}",
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
        world, fse_id = row["world"], row["fse_id"]
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
        claim = FseClassified.FromString(row["classified"]).fse
        records = day_records.decided(
            self.events, row, claim, outcome=outcome, technician=technician, day=day, pay_on=pay_on
        )
        if not accord and row["ps_id"] in await pg.compagnon_members(conn, world):
            text = compagnon.decided_rejet_notice(fse_id, row["reasons"].split(), technician)
            records.append(
                day_records.notice(self.events, world, row["organism"], row["ps_id"], fse_id, day, text)
            )
            metrics.NOTICES.inc()
        return records

    async def validate_all(
        self, *, world: str, organism: str, technician: str, on: date | None = None
    ) -> dict[str, object]:
        """The "validate all accords" action: one statement for the organism's delivered accords."""
        if not ORGANISM_PATTERN.match(organism):
            raise DecisionRefused("invalid", "organism", f"{organism!r} is not RR-CCC")
        if not technician:
            raise DecisionRefused("invalid", "technician", "required")
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
                    conn, pg.OUTBOX, day_records.validated(self.events, world, day, technician, rows)
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
