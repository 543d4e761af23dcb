"""Pointage's intake tables: FSE and documents as they arrive, matched whatever their order;
recovery orders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from fseflow.db import Conn
from pointage.adapters.postgres.schema import (
    RECEIVED,
)

# -- intake: what the stream processor writes ------------------------------------------------------
FSE_COLUMNS = (
    "world",
    "fse_id",
    "lot_id",
    "ps_id",
    "organism",
    "patient_organism",
    "cti",
    "nir",
    "mode",
    "received_on",
    "checked_on",
    "classification",
    "reasons",
    "amount_cents",
    "acts",
    "rectifies",
    "classified",
)
_FSE_TYPES = (
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "int",
    "text",
    "smallint",
    "date",
    "date",
    "text",
    "text",
    "bigint",
    "int",
    "text",
    "bytea",
)
DOCUMENT_COLUMNS = ("world", "document_id", "fse_id", "ps_id", "kind", "received_on", "exploitable")
_DOCUMENT_TYPES = ("text", "text", "text", "text", "text", "date", "boolean")


def _unnest(types: Sequence[str]) -> str:
    return ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, start=1))


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)] if rows else [[] for _ in range(width)]


async def add_fse(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, str]]:
    """Insert classified FSE (a redelivered one is ignored); the (world, fse id) of new ones."""
    if not rows:
        return []
    inserted = await conn.fetch(
        f"""
        INSERT INTO pointage.fse ({", ".join(FSE_COLUMNS)}, state)
        SELECT *, '{RECEIVED}' FROM unnest({_unnest(_FSE_TYPES)})
        ON CONFLICT DO NOTHING RETURNING world, fse_id
        """,
        *_columns(rows, len(FSE_COLUMNS)),
    )
    return [(r["world"], r["fse_id"]) for r in inserted]


async def add_documents(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, str]]:
    """Insert stored documents' metadata; the (world, fse id) each new one belongs to."""
    if not rows:
        return []
    inserted = await conn.fetch(
        f"""
        INSERT INTO pointage.documents ({", ".join(DOCUMENT_COLUMNS)})
        SELECT * FROM unnest({_unnest(_DOCUMENT_TYPES)})
        ON CONFLICT DO NOTHING RETURNING world, fse_id
        """,
        *_columns(rows, len(DOCUMENT_COLUMNS)),
    )
    return [(r["world"], r["fse_id"]) for r in inserted]


_MATCH = """
    INSERT INTO pointage.matches (world, document_id, fse_id, matched_on)
    SELECT d.world, d.document_id, d.fse_id,
           pointage.next_business_day(GREATEST(d.received_on, f.received_on))
    FROM pointage.documents d
    JOIN pointage.fse f ON f.world = d.world AND f.fse_id = d.fse_id
"""


async def match(conn: Conn, keys: Iterable[tuple[str, str]]) -> int:
    """Match every document of these FSE whose FSE is known: matched the business day after
    both are known, whatever the order they arrived in (R8, R16)."""
    unique = sorted(set(keys))
    if not unique:
        return 0
    worlds, fse_ids = _columns(unique, 2)
    status = await conn.execute(
        _MATCH
        + """
        JOIN unnest($1::text[], $2::text[]) AS k(world, fse_id) ON d.world = k.world AND d.fse_id = k.fse_id
        ON CONFLICT DO NOTHING
        """,
        worlds,
        fse_ids,
    )
    return int(status.rsplit(" ", 1)[1])


async def match_day_receipts(conn: Conn, world: str, day: date) -> int:
    """Safety net at the day's close: pairs completed by a receipt of ``day`` that an instance
    could not see (only possible if the two input topics were not co-partitioned)."""
    status = await conn.execute(
        _MATCH
        + """
        WHERE d.world = $1 AND (d.received_on = $2 OR f.received_on = $2)
        ON CONFLICT DO NOTHING
        """,
        world,
        day,
    )
    return int(status.rsplit(" ", 1)[1])


async def add_recovery_orders(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """(world, fse, ps, organism, kind, amount, indu_on, recover_on, cancellable); an FSE is
    recovered once, whichever order came first."""
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO pointage.recoveries
            (world, fse_id, ps_id, organism, kind, amount_cents, indu_on, recover_on, cancellable)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                             $7::date[], $8::date[], $9::boolean[])
        ON CONFLICT DO NOTHING
        """,
        *_columns(rows, 9),
    )
