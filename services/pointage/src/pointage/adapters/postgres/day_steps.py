"""The pôle's day, one set-based statement per step over the day's rows (no round trip per FSE):
validate, pay and settle recoveries, deliver, replace, count acts, publish matches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from fseflow.db import Conn
from pointage.adapters.postgres.intake import _columns
from pointage.adapters.postgres.schema import (
    PAID,
    PENDING_REVIEW,
    RECEIVED,
    REJECTED,
    REPLACED,
    TO_VALIDATE,
    VALIDATED,
)


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
