"""What the technicians' console and the decisions API read and write; a professional's account."""

from __future__ import annotations

from datetime import date

import asyncpg

from fseflow.db import Conn
from pointage.adapters.postgres.schema import (
    PENDING_REVIEW,
)


# -- decisions and the console ------------------------------------------------------------------
async def fse_for_update(conn: Conn, world: str, fse_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM pointage.fse WHERE world = $1 AND fse_id = $2 FOR UPDATE", world, fse_id
    )


async def fse(conn: Conn, world: str, fse_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM pointage.fse WHERE world = $1 AND fse_id = $2", world, fse_id)


async def decide(
    conn: Conn, world: str, fse_id: str, *, state: str, decided_on: date, by: str, pay_on: date | None
) -> None:
    await conn.execute(
        """
        UPDATE pointage.fse SET state = $3, decided_on = $4, decided_by = $5, pay_on = $6
        WHERE world = $1 AND fse_id = $2
        """,
        world,
        fse_id,
        state,
        decided_on,
        by,
        pay_on,
    )


async def last_delivery(conn: Conn, world: str, organism: str) -> date | None:
    value = await conn.fetchval(
        "SELECT max(delivered_on) FROM pointage.deliveries WHERE world = $1 AND organism = $2",
        world,
        organism,
    )
    return value if isinstance(value, date) else None


async def group_counts(conn: Conn, world: str, organism: str, delivered_on: date) -> dict[str, int]:
    rows = await conn.fetch(
        """
        SELECT classification, fse FROM pointage.deliveries
        WHERE world = $1 AND organism = $2 AND delivered_on = $3
        """,
        world,
        organism,
        delivered_on,
    )
    return {r["classification"]: r["fse"] for r in rows}


async def state_counts(conn: Conn, world: str, organism: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, count(*) AS n FROM pointage.fse WHERE world = $1 AND organism = $2 GROUP BY state",
        world,
        organism,
    )
    return {r["state"]: r["n"] for r in rows}


async def review_queue(conn: Conn, world: str, organism: str, limit: int = 200) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT f.*, COALESCE(
            (SELECT array_agg(d.document_id ORDER BY d.document_id) FROM pointage.documents d
             WHERE d.world = f.world AND d.fse_id = f.fse_id), '{{}}') AS documents
        FROM pointage.fse f
        WHERE f.world = $1 AND f.organism = $2 AND f.state = '{PENDING_REVIEW}'
        ORDER BY f.delivered_on, f.fse_id LIMIT $3
        """,
        world,
        organism,
        limit,
    )


async def worlds_of(conn: Conn, organism: str) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT w.world FROM world.worlds w
        WHERE EXISTS (SELECT 1 FROM pointage.deliveries d WHERE d.world = w.world AND d.organism = $1)
        ORDER BY w.loaded_at DESC
        """,
        organism,
    )
    return [r["world"] for r in rows]


async def document_owner(conn: Conn, world: str, document_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT d.document_id, d.kind, f.organism FROM pointage.documents d
        JOIN pointage.fse f ON f.world = d.world AND f.fse_id = d.fse_id
        WHERE d.world = $1 AND d.document_id = $2
        """,
        world,
        document_id,
    )


# -- a professional's account (read by `fseflow account`: pointage's tables are read here only) --
async def account_of(conn: Conn, world: str, ps_id: str) -> dict[str, list[asyncpg.Record]]:
    """The professional's payments (gross, offset, net) and the ledger of each recovery."""
    payments = await conn.fetch(
        """
        SELECT paid_on, fse_count, gross_cents, offset_cents, net_cents FROM pointage.payments
        WHERE world = $1 AND ps_id = $2 ORDER BY paid_on""",
        world,
        ps_id,
    )
    recoveries = await conn.fetch(
        """
        SELECT fse_id, kind, indu_on, recover_on, amount_cents, applied_cents,
               amount_cents - applied_cents AS remaining_cents, first_applied_on,
               last_applied_on, cancelled_on
        FROM pointage.recoveries WHERE world = $1 AND ps_id = $2 ORDER BY recover_on, fse_id""",
        world,
        ps_id,
    )
    return {"payments": payments, "recoveries": recoveries}
