"""PostgreSQL side of pointage: the pôle's FSE, documents, matches, payments and its day book.

Every step of a day is one set-based statement over the day's rows (no round trip per FSE);
the business calendar lives in a table so that SQL can compute match days itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

from fseflow import day_book
from fseflow.db import Conn
from fseflow.outbox import traceparent_column_ddl
from fseflow.vocabulary.calendar import is_business_day

OUTBOX = "pointage.outbox"

# The life of an FSE at the pôle (the replay's `status` is derived from it).
RECEIVED = "received"  # classified, not delivered yet
TO_VALIDATE = "to_validate"  # an accord delivered, waiting for the day's validation
VALIDATED = "validated"
REJECTED = "rejected"
PENDING_REVIEW = "pending_review"
PAID = "paid"
REPLACED = "replaced"

MIGRATIONS = [
    # v1 as released (9b1f2f9): a frozen literal, never composed from helpers that may change.
    """CREATE SCHEMA IF NOT EXISTS pointage;
    CREATE TABLE pointage.outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key bytea,
        value bytea NOT NULL,
        type text NOT NULL,
        event_id text NOT NULL,
        source text NOT NULL,
        partition integer,
        after boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    );
    CREATE INDEX pointage_outbox_unpublished ON pointage.outbox (id) WHERE published_at IS NULL;
    ;
    CREATE TABLE pointage.business_days (day date PRIMARY KEY);
    CREATE FUNCTION pointage.on_or_after(d date) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT min(day) FROM pointage.business_days WHERE day >= d $$;
    CREATE FUNCTION pointage.next_business_day(d date) RETURNS date LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT min(day) FROM pointage.business_days WHERE day > d $$;

    CREATE TABLE pointage.fse (
        world text NOT NULL,
        fse_id text NOT NULL,
        lot_id text NOT NULL,
        ps_id text NOT NULL,
        organism text NOT NULL,
        patient_organism text NOT NULL,
        cti integer NOT NULL,
        nir text NOT NULL,
        mode smallint NOT NULL,
        received_on date NOT NULL,
        checked_on date NOT NULL,
        classification text NOT NULL,
        reasons text NOT NULL,
        amount_cents bigint NOT NULL,
        acts integer NOT NULL,
        rectifies text NOT NULL,
        fse bytea NOT NULL,
        state text NOT NULL,
        delivered_on date,
        decided_on date,
        decided_by text,
        pay_on date,
        paid_on date,
        payment_id text,
        replaced_by text,
        document_matched_on date,
        PRIMARY KEY (world, fse_id)
    );
    CREATE INDEX fse_to_deliver ON pointage.fse (world, checked_on) WHERE state = 'received';
    CREATE INDEX fse_to_validate ON pointage.fse (world, organism) WHERE state = 'to_validate';
    CREATE INDEX fse_to_pay ON pointage.fse (world, pay_on) WHERE state = 'validated';
    CREATE INDEX fse_to_review ON pointage.fse (world, organism) WHERE state = 'pending_review';
    CREATE INDEX fse_by_delivery ON pointage.fse (world, organism, delivered_on);

    CREATE TABLE pointage.documents (
        world text NOT NULL,
        document_id text NOT NULL,
        fse_id text NOT NULL,
        ps_id text NOT NULL,
        kind text NOT NULL,
        received_on date NOT NULL,
        exploitable boolean NOT NULL,
        PRIMARY KEY (world, document_id)
    );
    CREATE INDEX documents_by_fse ON pointage.documents (world, fse_id);

    CREATE TABLE pointage.matches (
        world text NOT NULL,
        document_id text NOT NULL,
        fse_id text NOT NULL,
        matched_on date NOT NULL,
        published boolean NOT NULL DEFAULT false,
        PRIMARY KEY (world, document_id)
    );
    CREATE INDEX matches_to_publish ON pointage.matches (world, matched_on) WHERE NOT published;

    CREATE TABLE pointage.payments (
        world text NOT NULL,
        payment_id text NOT NULL,
        organism text NOT NULL,
        ps_id text NOT NULL,
        paid_on date NOT NULL,
        fse_count integer NOT NULL,
        gross_cents bigint NOT NULL,
        offset_cents bigint NOT NULL,
        net_cents bigint NOT NULL,
        PRIMARY KEY (world, payment_id)
    );

    -- Acts of delivered FSE per professional, year and mode: the 70 % rule of the 300 € aid (R22).
    CREATE TABLE pointage.act_counts (
        world text NOT NULL,
        ps_id text NOT NULL,
        year integer NOT NULL,
        mode smallint NOT NULL,
        acts bigint NOT NULL,
        PRIMARY KEY (world, ps_id, year, mode)
    );

    -- The business clock as pointage sees it: which DayMarks reached which input partition.
    CREATE TABLE pointage.day_marks (
        world text NOT NULL,
        day date NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        source integer NOT NULL,
        expected integer NOT NULL,
        PRIMARY KEY (world, day, topic, partition, source)
    );
    CREATE TABLE pointage.closed_days (
        world text NOT NULL,
        day date NOT NULL,
        closed_at timestamptz NOT NULL DEFAULT now(),
        delivered integer NOT NULL,
        validated integer NOT NULL,
        paid integer NOT NULL,
        matched integer NOT NULL,
        PRIMARY KEY (world, day)
    );

    CREATE TABLE pointage.technicians (
        technician_id text PRIMARY KEY,
        organism text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
   \x20""",
    # Recoveries ordered by the relances, taken by offset from payments (R13): the ledger.
    """
    CREATE TABLE pointage.recoveries (
        world text NOT NULL,
        fse_id text NOT NULL,
        ps_id text NOT NULL,
        organism text NOT NULL,
        kind text NOT NULL,
        amount_cents bigint NOT NULL,
        indu_on date NOT NULL,
        recover_on date NOT NULL,
        cancellable boolean NOT NULL,
        applied_cents bigint NOT NULL DEFAULT 0,
        first_applied_on date,
        last_applied_on date,
        cancelled_on date,
        PRIMARY KEY (world, fse_id)
    );
    CREATE INDEX recoveries_open ON pointage.recoveries (world, ps_id, recover_on)
        WHERE cancelled_on IS NULL AND applied_cents < amount_cents;
    """,
    # Access (decisions.md D40-D42): per-technician API tokens, server-side console sessions,
    # failed logins; only digests of the tokens and session ids are stored.
    """
    -- A technician provisioned for the API only (a replay's) has no console password.
    ALTER TABLE pointage.technicians ALTER COLUMN password_hash DROP NOT NULL;
    CREATE TABLE pointage.api_tokens (
        token_hash bytea PRIMARY KEY,
        technician_id text NOT NULL REFERENCES pointage.technicians ON DELETE CASCADE,
        label text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );
    CREATE INDEX api_tokens_of ON pointage.api_tokens (technician_id) WHERE revoked_at IS NULL;
    CREATE TABLE pointage.console_sessions (
        session_hash bytea PRIMARY KEY,
        technician_id text NOT NULL REFERENCES pointage.technicians ON DELETE CASCADE,
        csrf text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX console_sessions_of ON pointage.console_sessions (technician_id);
    CREATE INDEX console_sessions_expiry ON pointage.console_sessions (expires_at);
    CREATE TABLE pointage.login_failures (
        technician_id text NOT NULL,
        client text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX login_failures_technician ON pointage.login_failures (technician_id, failed_at);
    CREATE INDEX login_failures_client ON pointage.login_failures (client, failed_at);
    CREATE INDEX login_failures_age ON pointage.login_failures (failed_at);

    -- For a caller outside pointage that holds the database (the replay): a token for
    -- p_technician of p_organism, the technician created (without a password) if new. Returns
    -- the technician's organism; when it is not p_organism, no token was issued. The caller
    -- keeps the token and passes its SHA-256 (pointage.domain.access.secret_digest).
    CREATE FUNCTION pointage.issue_api_token(
        p_technician text, p_organism text, p_token_hash bytea, p_label text
    ) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
        found text;
    BEGIN
        -- The same rule as pointage.domain.access.TECHNICIAN_ID.
        IF p_technician !~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' THEN
            RAISE EXCEPTION '% is not a technician id (1-64 letters, digits, ".", "_", "-")',
                quote_literal(p_technician);
        END IF;
        INSERT INTO pointage.technicians (technician_id, organism, password_hash)
        VALUES (p_technician, p_organism, NULL)
        ON CONFLICT (technician_id) DO NOTHING;
        SELECT organism INTO found FROM pointage.technicians WHERE technician_id = p_technician;
        IF found = p_organism THEN
            INSERT INTO pointage.api_tokens (token_hash, technician_id, label)
            VALUES (p_token_hash, p_technician, p_label);
        END IF;
        RETURN found;
    END $$;
    CREATE FUNCTION pointage.revoke_api_token(p_token_hash bytea) RETURNS void LANGUAGE sql AS $$
        UPDATE pointage.api_tokens SET revoked_at = now()
        WHERE token_hash = p_token_hash AND revoked_at IS NULL
    $$;
    """,
    # Every record published from the outbox carries its trace context (traceparent).
    traceparent_column_ddl(OUTBOX),
    # v5: what v1 was edited into after its release (e5a155d). The FSE keep the FseClassified
    # event as received (its field 15 is the Fse that v1 kept: the old bytes wrapped as that field
    # make a valid FseClassified whose `fse` reads as before); the console's per-delivery counts
    # move from an index on the FSE table to a table kept by the day's close. A database created
    # by the edited v1 already has both: then nothing changes.
    """
    CREATE FUNCTION pointage.protobuf_varint(n bigint) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        encoded bytea := ''::bytea;
    BEGIN
        WHILE n >= 128 LOOP
            encoded := encoded || set_byte('\\x00'::bytea, 0, ((n & 127) | 128)::integer);
            n := n >> 7;
        END LOOP;
        RETURN encoded || set_byte('\\x00'::bytea, 0, n::integer);
    END $$;
    DO $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM information_schema.columns
            WHERE table_schema = 'pointage' AND table_name = 'fse' AND column_name = 'fse'
        ) THEN
            ALTER TABLE pointage.fse RENAME COLUMN fse TO classified;
            UPDATE pointage.fse SET classified =
                '\\x7a'::bytea || pointage.protobuf_varint(length(classified)) || classified;
        END IF;
        IF to_regclass('pointage.deliveries') IS NULL THEN
            CREATE TABLE pointage.deliveries (
                world text NOT NULL,
                organism text NOT NULL,
                delivered_on date NOT NULL,
                classification text NOT NULL,
                fse integer NOT NULL,
                PRIMARY KEY (world, organism, delivered_on, classification)
            );
            INSERT INTO pointage.deliveries (world, organism, delivered_on, classification, fse)
                SELECT world, organism, delivered_on, classification, count(*) FROM pointage.fse
                WHERE delivered_on IS NOT NULL GROUP BY world, organism, delivered_on, classification;
        END IF;
    END $$;
    DROP FUNCTION pointage.protobuf_varint(bigint);
    DROP INDEX IF EXISTS pointage.fse_by_delivery;
    """,
]


async def ensure_calendar(pool: asyncpg.Pool, first: date, last: date) -> None:
    """Fill the business-day table for [first, last] (idempotent; from the Python calendar)."""
    days = []
    day = first
    while day <= last:
        if is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO pointage.business_days SELECT unnest($1::date[]) ON CONFLICT DO NOTHING", days
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


# -- the business clock (fseflow.day_book) ------------------------------------------------------
DAY_MARKS = "pointage.day_marks"
CLOSED_DAYS = "pointage.closed_days"
MarkRow = day_book.MarkRow


async def add_marks(conn: Conn, rows: Sequence[MarkRow]) -> None:
    await day_book.add_marks(conn, DAY_MARKS, rows)


async def record_closed_day(conn: Conn, world: str, day: date, counts: dict[str, int]) -> None:
    await conn.execute(
        """
        INSERT INTO pointage.closed_days (world, day, delivered, validated, paid, matched)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        world,
        day,
        counts["delivered"],
        counts["validated"],
        counts["paid"],
        counts["matched"],
    )
    await day_book.forget_marks(conn, DAY_MARKS, world, day)


async def organisms(conn: Conn, world: str) -> list[str]:
    """The pôles of a world: its organisms and its professionals' ones."""
    rows = await conn.fetch(
        """
        SELECT organism FROM world.organisms WHERE world = $1
        UNION SELECT organism FROM world.professionals WHERE world = $1
        UNION SELECT DISTINCT organism FROM pointage.fse WHERE world = $1 AND state = 'received'
        ORDER BY 1
        """,
        world,
    )
    return [r["organism"] for r in rows]


async def compagnon_members(conn: Conn, world: str) -> set[str]:
    rows = await conn.fetch("SELECT ps_id FROM world.professionals WHERE world = $1 AND compagnon", world)
    return {r["ps_id"] for r in rows}


# -- the day's steps -------------------------------------------------------------------------------
async def validate_accords(
    conn: Conn,
    world: str,
    *,
    validated_on: date,
    by: str,
    pay_on: date,
    paper_mode: int,
    organism: str | None = None,
) -> list[asyncpg.Record]:
    """Validate, in one statement, every accord delivered by ``validated_on`` (R4), of one
    organism or of all; a paper sheet is paid 20 days after receipt (and not before ``pay_on``)."""
    return await conn.fetch(
        f"""
        UPDATE pointage.fse SET state = '{VALIDATED}', decided_on = $2, decided_by = $3,
            pay_on = CASE WHEN mode = $5
                          THEN GREATEST(pointage.on_or_after(received_on + 20), $4::date)
                          ELSE $4::date END
        WHERE world = $1 AND state = '{TO_VALIDATE}' AND delivered_on <= $2
          AND ($6::text IS NULL OR organism = $6)
        RETURNING organism, fse_id, pay_on
        """,
        world,
        validated_on,
        by,
        pay_on,
        paper_mode,
        organism,
    )


@dataclass(frozen=True)
class PaymentRow:
    payment_id: str
    organism: str
    ps_id: str
    lines: tuple[tuple[str, int], ...]  # (fse id, amount in cents), by fse id

    @property
    def gross_cents(self) -> int:
        return sum(amount for _, amount in self.lines)


async def pay_due(conn: Conn, world: str, day: date) -> tuple[list[PaymentRow], list[asyncpg.Record]]:
    """Pay every validated FSE due by ``day``: one payment per professional (R4). Returns the
    payments and the FSE paid."""
    rows = await conn.fetch(
        f"""
        UPDATE pointage.fse SET state = '{PAID}', paid_on = $2, payment_id = ps_id || '/' || $2::text
        WHERE world = $1 AND state = '{VALIDATED}' AND pay_on <= $2
        RETURNING payment_id, organism, ps_id, fse_id, amount_cents, nir, classified, document_matched_on
        """,
        world,
        day,
    )
    grouped: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        grouped.setdefault(row["payment_id"], []).append(row)
    payments = [
        PaymentRow(
            payment_id,
            lines[0]["organism"],
            lines[0]["ps_id"],
            tuple(sorted((r["fse_id"], r["amount_cents"]) for r in lines)),
        )
        for payment_id, lines in sorted(grouped.items())
    ]
    return payments, sorted(rows, key=lambda r: r["fse_id"])


async def record_payments(
    conn: Conn, world: str, day: date, payments: Sequence[tuple[PaymentRow, int]]
) -> None:
    """(payment, offset in cents) of the day."""
    if not payments:
        return
    await conn.copy_records_to_table(
        "payments",
        schema_name="pointage",
        columns=(
            "world",
            "payment_id",
            "organism",
            "ps_id",
            "paid_on",
            "fse_count",
            "gross_cents",
            "offset_cents",
            "net_cents",
        ),
        records=[
            (world, p.payment_id, p.organism, p.ps_id, day, len(p.lines), p.gross_cents, o, p.gross_cents - o)
            for p, o in payments
        ],
    )


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


async def open_recoveries(conn: Conn, world: str, ps_ids: Sequence[str], day: date) -> list[asyncpg.Record]:
    """The open recoveries of these professionals due by ``day``, in the order they are taken."""
    if not ps_ids:
        return []
    return await conn.fetch(
        """
        SELECT r.fse_id, r.ps_id, r.kind, r.amount_cents, r.applied_cents, r.recover_on, r.cancellable,
               f.document_matched_on, f.classified
        FROM pointage.recoveries r
        LEFT JOIN pointage.fse f ON f.world = r.world AND f.fse_id = r.fse_id
        WHERE r.world = $1 AND r.ps_id = ANY($2::text[]) AND r.recover_on <= $3
          AND r.cancelled_on IS NULL AND r.applied_cents < r.amount_cents
        ORDER BY r.ps_id, r.recover_on, r.fse_id
        FOR UPDATE OF r
        """,
        world,
        list(ps_ids),
        day,
    )


async def settle_recoveries(
    conn: Conn, world: str, day: date, applied: Sequence[tuple[str, int]], cancelled: Sequence[str]
) -> None:
    if applied:
        fse_ids, amounts = _columns(applied, 2)
        await conn.execute(
            """
            UPDATE pointage.recoveries r SET applied_cents = r.applied_cents + a.amount,
                first_applied_on = COALESCE(r.first_applied_on, $2), last_applied_on = $2
            FROM unnest($3::text[], $4::bigint[]) AS a(fse_id, amount)
            WHERE r.world = $1 AND r.fse_id = a.fse_id
            """,
            world,
            day,
            fse_ids,
            amounts,
        )
    if cancelled:
        await conn.execute(
            "UPDATE pointage.recoveries SET cancelled_on = $2 WHERE world = $1 AND fse_id = ANY($3::text[])",
            world,
            day,
            list(cancelled),
        )


async def deliver(conn: Conn, world: str, day: date, delivered_on: date) -> list[asyncpg.Record]:
    """Deliver every FSE checked by ``day`` to its pôle, in its group (R3)."""
    return await conn.fetch(
        f"""
        UPDATE pointage.fse SET delivered_on = $3,
            state = CASE classification WHEN 'accord' THEN '{TO_VALIDATE}'
                                        WHEN 'rejet' THEN '{REJECTED}'
                                        ELSE '{PENDING_REVIEW}' END,
            decided_on = CASE WHEN classification = 'rejet' THEN $3::date END,
            decided_by = CASE WHEN classification = 'rejet' THEN 'national-check' END
        WHERE world = $1 AND state = '{RECEIVED}' AND checked_on <= $2
        RETURNING fse_id, lot_id, ps_id, organism, patient_organism, cti, received_on, classification,
                  reasons, amount_cents, mode, acts, rectifies
        """,
        world,
        day,
        delivered_on,
    )


async def replace(
    conn: Conn, world: str, corrections: Sequence[tuple[str, str]], replaced_on: date
) -> list[asyncpg.Record]:
    """Corrections (original id, correction id) replace a rejected or still litigieuse FSE (R7).
    An FSE already validated or paid is not replaced: the correction travels on its own."""
    if not corrections:
        return []
    originals, by = _columns(corrections, 2)
    return await conn.fetch(
        f"""
        UPDATE pointage.fse f
        SET state = '{REPLACED}', replaced_by = c.by, decided_on = COALESCE(f.decided_on, $4)
        FROM unnest($2::text[], $3::text[]) AS c(original, by)
        WHERE f.world = $1 AND f.fse_id = c.original AND f.state IN ('{REJECTED}', '{PENDING_REVIEW}')
        RETURNING f.fse_id, f.organism, c.by
        """,
        world,
        originals,
        by,
        replaced_on,
    )


async def count_acts(conn: Conn, world: str, counts: dict[tuple[str, int, int], int]) -> None:
    if not counts:
        return
    keys = sorted(counts)
    ps, years, modes = _columns(keys, 3)
    await conn.execute(
        """
        INSERT INTO pointage.act_counts (world, ps_id, year, mode, acts)
        SELECT $1, * FROM unnest($2::text[], $3::int[], $4::smallint[], $5::bigint[])
        ON CONFLICT (world, ps_id, year, mode) DO UPDATE SET acts = act_counts.acts + EXCLUDED.acts
        """,
        world,
        ps,
        years,
        modes,
        [counts[k] for k in keys],
    )


async def publish_matches(conn: Conn, world: str, by: date) -> list[asyncpg.Record]:
    """Matches whose day has come: flagged published, and their FSE's first match day set."""
    rows = await conn.fetch(
        """
        UPDATE pointage.matches m SET published = true
        FROM pointage.fse f
        WHERE m.world = $1 AND NOT m.published AND m.matched_on <= $2
          AND f.world = m.world AND f.fse_id = m.fse_id
        RETURNING m.document_id, m.fse_id, m.matched_on, f.organism, f.ps_id
        """,
        world,
        by,
    )
    await conn.execute(
        """
        UPDATE pointage.fse f SET document_matched_on = first.matched_on
        FROM (SELECT fse_id, min(matched_on) AS matched_on FROM pointage.matches
              WHERE world = $1 AND fse_id = ANY($2::text[]) GROUP BY fse_id) first
        WHERE f.world = $1 AND f.fse_id = first.fse_id
        """,
        world,
        sorted({r["fse_id"] for r in rows}),
    )
    return rows


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


async def record_deliveries(
    conn: Conn, world: str, delivered_on: date, counts: dict[tuple[str, str], int]
) -> None:
    """(organism, classification) -> FSE delivered on ``delivered_on``."""
    if not counts:
        return
    keys = sorted(counts)
    organisms, classifications = _columns(keys, 2)
    await conn.execute(
        """
        INSERT INTO pointage.deliveries (world, organism, delivered_on, classification, fse)
        SELECT $1, o, $2, c, n FROM unnest($3::text[], $4::text[], $5::int[]) AS k(o, c, n)
        ON CONFLICT (world, organism, delivered_on, classification)
        DO UPDATE SET fse = deliveries.fse + EXCLUDED.fse
        """,
        world,
        delivered_on,
        organisms,
        classifications,
        [counts[k] for k in keys],
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
