"""PostgreSQL side of relances: open deadlines indexed by due day, paid acts for hospital stays,
professionals' first payments and act counts for the aids, and the day book.

Closing a day reads only what is due that day (a partial index on open deadlines by due day):
ten million open deadlines are never scanned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from fseflow import day_book
from fseflow.db import Conn
from fseflow.outbox import outbox_table_ddl, traceparent_column_ddl

OUTBOX = "relances.outbox"
DAY_MARKS = "relances.day_marks"
CLOSED_DAYS = "relances.closed_days"
MarkRow = day_book.MarkRow

OPEN = "open"
CANCELLED = "cancelled"  # the document came in time
ORDERED = "ordered"  # indu notified, recovery ordered
SUPERSEDED = "superseded"  # a hospital indu recovers the whole FSE

MIGRATIONS = [
    "CREATE SCHEMA IF NOT EXISTS relances;"
    + outbox_table_ddl(OUTBOX)
    + day_book.day_marks_ddl(DAY_MARKS)
    + """
    CREATE TABLE relances.closed_days (
        world text NOT NULL,
        day date NOT NULL,
        closed_at timestamptz NOT NULL DEFAULT now(),
        fired integer NOT NULL,
        cancelled integer NOT NULL,
        hospital integer NOT NULL,
        aids integer NOT NULL,
        PRIMARY KEY (world, day)
    );

    -- One row per paid FSE whose document is missing: its next step and the day it is due.
    CREATE TABLE relances.deadlines (
        world text NOT NULL,
        fse_id text NOT NULL,
        ps_id text NOT NULL,
        organism text NOT NULL,
        paid_on date NOT NULL,
        amount_cents bigint NOT NULL,
        acts text[] NOT NULL,
        step smallint NOT NULL,
        due_on date NOT NULL,
        matched_on date,
        state text NOT NULL,
        PRIMARY KEY (world, fse_id)
    );
    CREATE INDEX deadlines_due ON relances.deadlines (world, due_on) WHERE state = 'open';

    -- Acts of paid FSE, by patient and day: hospital stays learned late.
    CREATE TABLE relances.paid_acts (
        world text NOT NULL,
        nir text NOT NULL,
        act_on date NOT NULL,
        fse_id text NOT NULL,
        ps_id text NOT NULL,
        organism text NOT NULL,
        amount_cents bigint NOT NULL,
        paid_on date NOT NULL,
        acts text[] NOT NULL,
        PRIMARY KEY (world, fse_id, act_on)
    );
    CREATE INDEX paid_acts_by_patient ON relances.paid_acts (world, nir, act_on);

    -- One recovery per FSE, whichever came first (document or hospital).
    CREATE TABLE relances.orders (
        world text NOT NULL,
        fse_id text NOT NULL,
        kind text NOT NULL,
        amount_cents bigint NOT NULL,
        indu_on date NOT NULL,
        recover_on date NOT NULL,
        PRIMARY KEY (world, fse_id)
    );

    CREATE TABLE relances.first_payments (
        world text NOT NULL,
        ps_id text NOT NULL,
        first_paid_on date NOT NULL,
        PRIMARY KEY (world, ps_id)
    );
    -- The pôle's daily counts, by their natural key: a redelivered count is not added twice.
    CREATE TABLE relances.acts_counted (
        world text NOT NULL,
        ps_id text NOT NULL,
        year integer NOT NULL,
        mode smallint NOT NULL,
        counted_on date NOT NULL,
        acts bigint NOT NULL,
        PRIMARY KEY (world, ps_id, year, mode, counted_on)
    );
    CREATE TABLE relances.aids (
        world text NOT NULL,
        ps_id text NOT NULL,
        kind text NOT NULL,
        granted_on date NOT NULL,
        amount_cents bigint NOT NULL,
        PRIMARY KEY (world, ps_id, kind, granted_on)
    );
    """,
    # Every record published from the outbox carries its trace context (traceparent).
    traceparent_column_ddl(OUTBOX),
]


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[row[i] for row in rows] for i in range(width)]


# -- intake --------------------------------------------------------------------------------------
async def open_deadlines(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """(world, fse, ps, organism, paid_on, amount, acts, step, due_on)."""
    if not rows:
        return
    await conn.execute(
        f"""
        INSERT INTO relances.deadlines
            (world, fse_id, ps_id, organism, paid_on, amount_cents, acts, step, due_on, state)
        SELECT w, f, p, o, paid, amount, string_to_array(acts, '|'), step, due, '{OPEN}'
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::bigint[],
                    $7::text[], $8::smallint[], $9::date[])
             AS r(w, f, p, o, paid, amount, acts, step, due)
        ON CONFLICT DO NOTHING
        """,
        *_columns(rows, 9),
    )


async def add_paid_acts(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """(world, nir, act_on, fse, ps, organism, amount, paid_on, acts)."""
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO relances.paid_acts
            (world, nir, act_on, fse_id, ps_id, organism, amount_cents, paid_on, acts)
        SELECT w, n, a, f, p, o, amount, paid, string_to_array(acts, '|')
        FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[],
                    $7::bigint[], $8::date[], $9::text[])
             AS r(w, n, a, f, p, o, amount, paid, acts)
        ON CONFLICT DO NOTHING
        """,
        *_columns(rows, 9),
    )


async def note_matches(conn: Conn, rows: Sequence[tuple[str, str, date]]) -> None:
    """(world, fse, matched_on): the earliest match of an FSE under relance."""
    if not rows:
        return
    await conn.execute(
        """
        UPDATE relances.deadlines d SET matched_on = LEAST(COALESCE(d.matched_on, m.on_day), m.on_day)
        FROM unnest($1::text[], $2::text[], $3::date[]) AS m(world, fse_id, on_day)
        WHERE d.world = m.world AND d.fse_id = m.fse_id
        """,
        *_columns(rows, 3),
    )


async def note_first_payments(conn: Conn, rows: Sequence[tuple[str, str, date]]) -> None:
    # One row per professional: an upsert may not touch a row twice in one statement.
    first: dict[tuple[str, str], date] = {}
    for world, ps_id, paid_on in rows:
        first[(world, ps_id)] = min(paid_on, first.get((world, ps_id), paid_on))
    rows = [(world, ps_id, paid_on) for (world, ps_id), paid_on in sorted(first.items())]
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO relances.first_payments (world, ps_id, first_paid_on)
        SELECT * FROM unnest($1::text[], $2::text[], $3::date[])
        ON CONFLICT (world, ps_id) DO UPDATE
        SET first_paid_on = LEAST(first_payments.first_paid_on, EXCLUDED.first_paid_on)
        """,
        *_columns(rows, 3),
    )


async def add_acts_counted(conn: Conn, rows: Sequence[tuple[Any, ...]]) -> None:
    """(world, ps, year, mode, counted_on, acts)."""
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO relances.acts_counted (world, ps_id, year, mode, counted_on, acts)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::smallint[], $5::date[], $6::bigint[])
        ON CONFLICT DO NOTHING
        """,
        *_columns(rows, 6),
    )


# -- the business clock --------------------------------------------------------------------------
async def add_marks(conn: Conn, rows: Sequence[MarkRow]) -> None:
    await day_book.add_marks(conn, DAY_MARKS, rows)


async def record_closed_day(conn: Conn, world: str, day: date, counts: dict[str, int]) -> None:
    await conn.execute(
        """
        INSERT INTO relances.closed_days (world, day, fired, cancelled, hospital, aids)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        world,
        day,
        counts["fired"],
        counts["cancelled"],
        counts["hospital"],
        counts["aids"],
    )
    await day_book.forget_marks(conn, DAY_MARKS, world, day)


# -- closing a day --------------------------------------------------------------------------------
async def due_deadlines(conn: Conn, world: str, day: date) -> list[asyncpg.Record]:
    """Open deadlines due by ``day``: an index range, whatever the number of open ones."""
    return await conn.fetch(
        f"""
        SELECT fse_id, ps_id, organism, paid_on, amount_cents, acts, step, due_on, matched_on
        FROM relances.deadlines
        WHERE world = $1 AND state = '{OPEN}' AND due_on <= $2
        ORDER BY due_on, fse_id
        FOR UPDATE
        """,
        world,
        day,
    )


async def move_deadlines(conn: Conn, world: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """(fse, state, step, due_on) after the day's firing: one statement."""
    if not rows:
        return
    await conn.execute(
        """
        UPDATE relances.deadlines d SET state = m.state, step = COALESCE(m.step, d.step),
            due_on = COALESCE(m.due_on, d.due_on)
        FROM unnest($2::text[], $3::text[], $4::smallint[], $5::date[]) AS m(fse_id, state, step, due_on)
        WHERE d.world = $1 AND d.fse_id = m.fse_id
        """,
        world,
        *_columns(rows, 4),
    )


async def add_orders(conn: Conn, world: str, rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """(fse, kind, amount, indu_on, recover_on); returns the FSE newly ordered (one per FSE)."""
    if not rows:
        return []
    inserted = await conn.fetch(
        """
        INSERT INTO relances.orders (world, fse_id, kind, amount_cents, indu_on, recover_on)
        SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::date[], $6::date[])
        ON CONFLICT DO NOTHING RETURNING fse_id
        """,
        world,
        *_columns(rows, 5),
    )
    return [r["fse_id"] for r in inserted]


async def hospital_cases(conn: Conn, world: str, after: date, day: date) -> list[asyncpg.Record]:
    """Paid acts inside the hospital stays that became known in (after, day]."""
    return await conn.fetch(
        """
        SELECT a.fse_id, a.ps_id, a.organism, a.amount_cents, a.paid_on, a.act_on, a.acts,
               s.stay_from, s.stay_to, s.known_on
        FROM world.hospital_stays s
        JOIN relances.paid_acts a
          ON a.world = s.world AND a.nir = s.nir AND a.act_on BETWEEN s.stay_from AND s.stay_to
        WHERE s.world = $1 AND s.known_on > $2 AND s.known_on <= $3 AND a.paid_on <= s.known_on
        ORDER BY a.fse_id, a.act_on
        """,
        world,
        after,
        day,
    )


async def supersede(conn: Conn, world: str, fse_ids: Sequence[str]) -> None:
    """A hospital indu recovers the whole FSE: its document relances stop."""
    if fse_ids:
        await conn.execute(
            f"""
            UPDATE relances.deadlines SET state = '{SUPERSEDED}'
            WHERE world = $1 AND fse_id = ANY($2::text[]) AND state = '{OPEN}'
            """,
            world,
            list(fse_ids),
        )


async def first_fse_candidates(conn: Conn, world: str, day: date, kind: str) -> list[asyncpg.Record]:
    """Professionals paid for the first time by ``day`` who have not had the aid yet."""
    return await conn.fetch(
        """
        SELECT f.ps_id, f.first_paid_on, p.organism, p.transmitting_since, w.start_day
        FROM relances.first_payments f
        JOIN world.professionals p ON p.world = f.world AND p.ps_id = f.ps_id
        JOIN world.worlds w ON w.world = f.world
        WHERE f.world = $1 AND f.first_paid_on <= $2
          AND NOT EXISTS (SELECT 1 FROM relances.aids a WHERE a.world = f.world AND a.ps_id = f.ps_id
                          AND a.kind = $3)
        ORDER BY f.ps_id
        """,
        world,
        day,
        kind,
    )


async def acts_of_year(conn: Conn, world: str, year: int) -> list[asyncpg.Record]:
    """Per professional: acts of the year by mode (sécurisé 1, dégradé 2, papier 3)."""
    return await conn.fetch(
        """
        SELECT c.ps_id, p.organism, sum(c.acts) FILTER (WHERE c.mode IN (1, 2)) AS electronic,
               sum(c.acts) AS total
        FROM relances.acts_counted c
        JOIN world.professionals p ON p.world = c.world AND p.ps_id = c.ps_id
        WHERE c.world = $1 AND c.year = $2
        GROUP BY c.ps_id, p.organism ORDER BY c.ps_id
        """,
        world,
        year,
    )


async def grant_aids(conn: Conn, world: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """(ps, kind, granted_on, amount)."""
    if not rows:
        return
    await conn.execute(
        """
        INSERT INTO relances.aids (world, ps_id, kind, granted_on, amount_cents)
        SELECT $1, * FROM unnest($2::text[], $3::text[], $4::date[], $5::bigint[])
        ON CONFLICT DO NOTHING
        """,
        world,
        *_columns(rows, 4),
    )


async def organisms(conn: Conn, world: str) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT organism FROM world.organisms WHERE world = $1
        UNION SELECT organism FROM world.professionals WHERE world = $1
        ORDER BY 1
        """,
        world,
    )
    return [r["organism"] for r in rows]


# -- a professional's account (read by `fseflow account`: relances' tables are read here only) --
async def account_of(conn: Conn, world: str, ps_id: str) -> dict[str, list[asyncpg.Record]]:
    """The professional's relances of missing documents and the aids granted."""
    relances = await conn.fetch(
        """
        SELECT fse_id, paid_on, amount_cents, step, due_on, matched_on, state
        FROM relances.deadlines WHERE world = $1 AND ps_id = $2 ORDER BY paid_on, fse_id""",
        world,
        ps_id,
    )
    aids = await conn.fetch(
        """
        SELECT kind, granted_on, amount_cents FROM relances.aids
        WHERE world = $1 AND ps_id = $2 ORDER BY granted_on, kind""",
        world,
        ps_id,
    )
    return {"relances": relances, "aids": aids}
