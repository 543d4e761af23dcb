"""Pointage's schema: the FSE states, the migrations (append-only) and the business calendar, kept in
a table so that SQL can compute match days itself."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

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
