"""PostgreSQL side of scor-store: document metadata, the append-only audit trail, aids."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from fseflow.db import Conn
from scor_store.adapters.vault import Layout

log = logging.getLogger(__name__)

MIGRATIONS = [
    """
    CREATE SCHEMA IF NOT EXISTS scor;
    CREATE TABLE scor.documents (
        world text NOT NULL,
        document_id text NOT NULL,
        fse_id text NOT NULL,
        ps_id text NOT NULL,
        insured_organism text NOT NULL,
        receiving_organism text NOT NULL,
        kind text NOT NULL,
        channel text NOT NULL,
        received_on date NOT NULL,
        content_type text NOT NULL,
        size_bytes bigint NOT NULL,
        sha256 text NOT NULL,
        seal text NOT NULL,
        pad_len integer NOT NULL,
        piece_digests text[] NOT NULL,
        exploitable boolean NOT NULL,
        quality_reason text NOT NULL,
        purged_on date,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (world, document_id)
    );
    CREATE INDEX documents_by_fse ON scor.documents (world, fse_id);
    CREATE INDEX documents_by_professional ON scor.documents (world, ps_id, received_on);
    CREATE INDEX documents_to_purge ON scor.documents (received_on) WHERE purged_on IS NULL;

    -- Every access, granted or denied. Append-only: updates and deletes are refused.
    CREATE TABLE scor.audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        world text NOT NULL,
        document_id text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL,
        habilitation text NOT NULL,
        granted boolean NOT NULL,
        reason text NOT NULL
    );
    CREATE FUNCTION scor.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'scor.audit is append-only';
    END $$;
    CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON scor.audit
        FOR EACH ROW EXECUTE FUNCTION scor.audit_append_only();
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON scor.audit
        FOR EACH STATEMENT EXECUTE FUNCTION scor.audit_append_only();

    -- Quality aids evaluated (granted or not), so a replayed closure decides nothing twice.
    CREATE TABLE scor.aids (
        world text NOT NULL,
        ps_id text NOT NULL,
        kind text NOT NULL,
        -- the aid's day (scor_since + 90, next business day) and the closure that decided it
        aid_on date NOT NULL,
        decided_at_closure date NOT NULL,
        granted boolean NOT NULL,
        exploitable integer NOT NULL,
        documents integer NOT NULL,
        PRIMARY KEY (world, ps_id, kind)
    );
    """,
    # R17: the exploitable rate of each professional's documents, first 90 days of Scor and overall.
    """
    CREATE VIEW scor.professional_quality AS
    SELECT d.world, d.ps_id, p.scor_since,
           count(*) FILTER (WHERE d.channel = 'scor' AND d.received_on >= p.scor_since
                            AND d.received_on < p.scor_since + 90) AS first_90_days_documents,
           count(*) FILTER (WHERE d.exploitable AND d.channel = 'scor' AND d.received_on >= p.scor_since
                            AND d.received_on < p.scor_since + 90) AS first_90_days_exploitable,
           count(*) AS documents,
           count(*) FILTER (WHERE d.exploitable) AS exploitable,
           round(count(*) FILTER (WHERE d.exploitable)::numeric / count(*), 4) AS exploitable_rate
    FROM scor.documents d
    LEFT JOIN world.professionals p ON p.world = d.world AND p.ps_id = d.ps_id
    GROUP BY d.world, d.ps_id, p.scor_since;
    """,
]


@dataclass(frozen=True)
class DocumentRow:
    world: str
    document_id: str
    fse_id: str
    ps_id: str
    insured_organism: str
    receiving_organism: str
    kind: str
    channel: str
    received_on: date
    content_type: str
    exploitable: bool
    quality_reason: str
    layout: Layout
    purged_on: date | None = None


_COLUMNS = (
    "world, document_id, fse_id, ps_id, insured_organism, receiving_organism, kind, channel, received_on, "
    "content_type, size_bytes, sha256, seal, pad_len, piece_digests, exploitable, quality_reason, purged_on"
)


def _row(record: asyncpg.Record) -> DocumentRow:
    return DocumentRow(
        world=record["world"],
        document_id=record["document_id"],
        fse_id=record["fse_id"],
        ps_id=record["ps_id"],
        insured_organism=record["insured_organism"],
        receiving_organism=record["receiving_organism"],
        kind=record["kind"],
        channel=record["channel"],
        received_on=record["received_on"],
        content_type=record["content_type"],
        exploitable=record["exploitable"],
        quality_reason=record["quality_reason"],
        layout=Layout(
            size=record["size_bytes"],
            sha256=record["sha256"],
            seal=record["seal"],
            pad_len=record["pad_len"],
            piece_digests=tuple(record["piece_digests"]),
        ),
        purged_on=record["purged_on"],
    )


class Documents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, world: str, document_id: str) -> DocumentRow | None:
        async with self.pool.acquire() as conn:
            record = await conn.fetchrow(
                f"SELECT {_COLUMNS} FROM scor.documents WHERE world = $1 AND document_id = $2",
                world,
                document_id,
            )
        return None if record is None else _row(record)

    async def insert(self, row: DocumentRow) -> bool:
        """False when the id is already stored (the existing row is left as is)."""
        layout = row.layout
        async with self.pool.acquire() as conn:
            inserted = await conn.fetchval(
                f"""
                INSERT INTO scor.documents ({_COLUMNS})
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, NULL)
                ON CONFLICT (world, document_id) DO NOTHING
                RETURNING true
                """,
                row.world,
                row.document_id,
                row.fse_id,
                row.ps_id,
                row.insured_organism,
                row.receiving_organism,
                row.kind,
                row.channel,
                row.received_on,
                row.content_type,
                layout.size,
                layout.sha256,
                layout.seal,
                layout.pad_len,
                list(layout.piece_digests),
                row.exploitable,
                row.quality_reason,
            )
        return bool(inserted)

    async def by_fse(self, world: str, fse_id: str) -> list[DocumentRow]:
        async with self.pool.acquire() as conn:
            records = await conn.fetch(
                f"SELECT {_COLUMNS} FROM scor.documents WHERE world = $1 AND fse_id = $2 "
                "ORDER BY document_id",
                world,
                fse_id,
            )
        return [_row(r) for r in records]

    async def by_professional(self, world: str, ps_id: str) -> list[DocumentRow]:
        async with self.pool.acquire() as conn:
            records = await conn.fetch(
                f"SELECT {_COLUMNS} FROM scor.documents WHERE world = $1 AND ps_id = $2 "
                "ORDER BY received_on, document_id",
                world,
                ps_id,
            )
        return [_row(r) for r in records]

    async def all(self) -> list[DocumentRow]:
        async with self.pool.acquire() as conn:
            records = await conn.fetch(
                f"SELECT {_COLUMNS} FROM scor.documents WHERE purged_on IS NULL ORDER BY world, document_id"
            )
        return [_row(r) for r in records]

    async def received_until(self, conn: Conn, world: str, last_day: date) -> list[DocumentRow]:
        """Documents of ``world`` received on or before ``last_day`` and not purged yet."""
        records = await conn.fetch(
            f"SELECT {_COLUMNS} FROM scor.documents WHERE world = $1 AND purged_on IS NULL "
            "AND received_on <= $2 ORDER BY received_on, document_id",
            world,
            last_day,
        )
        return [_row(r) for r in records]

    async def mark_purged(self, conn: Conn, world: str, document_ids: Sequence[str], day: date) -> None:
        await conn.execute(
            "UPDATE scor.documents SET purged_on = $3 WHERE world = $1 AND document_id = ANY($2::text[])",
            world,
            list(document_ids),
            day,
        )


@dataclass(frozen=True)
class AidDecision:
    ps_id: str
    kind: str
    aid_on: date
    granted: bool
    exploitable: int
    documents: int


@dataclass(frozen=True)
class AidCandidate:
    ps_id: str
    scor_since: date


class Aids:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def undecided(self, conn: Conn, world: str, kind: str, since_before: date) -> list[AidCandidate]:
        """Scor users of ``world`` whose window started before ``since_before`` and not decided yet."""
        records = await conn.fetch(
            """
            SELECT p.ps_id, p.scor_since FROM world.professionals p
            WHERE p.world = $1 AND p.scor_since IS NOT NULL AND p.scor_since < $3
              AND NOT EXISTS (
                SELECT 1 FROM scor.aids a WHERE a.world = p.world AND a.ps_id = p.ps_id AND a.kind = $2)
            ORDER BY p.ps_id
            """,
            world,
            kind,
            since_before,
        )
        return [AidCandidate(r["ps_id"], r["scor_since"]) for r in records]

    async def window_counts(
        self, conn: Conn, world: str, ps_id: str, start: date, end: date
    ) -> tuple[int, int]:
        """(exploitable, all) documents the professional sent through Scor in [start, end)."""
        record = await conn.fetchrow(
            """
            SELECT count(*) FILTER (WHERE exploitable) AS exploitable, count(*) AS documents
            FROM scor.documents
            WHERE world = $1 AND ps_id = $2 AND channel = 'scor' AND received_on >= $3 AND received_on < $4
            """,
            world,
            ps_id,
            start,
            end,
        )
        assert record is not None
        return int(record["exploitable"]), int(record["documents"])

    async def decide(self, conn: Conn, world: str, decision: AidDecision, closure: date) -> None:
        await conn.execute(
            "INSERT INTO scor.aids VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            world,
            decision.ps_id,
            decision.kind,
            decision.aid_on,
            closure,
            decision.granted,
            decision.exploitable,
            decision.documents,
        )

    async def granted_at_closure(self, conn: Conn, world: str, closure: date) -> list[AidDecision]:
        """The aids granted by the closure of ``closure`` (to publish them again on a replay)."""
        records = await conn.fetch(
            "SELECT * FROM scor.aids WHERE world = $1 AND decided_at_closure = $2 AND granted "
            "ORDER BY ps_id, kind",
            world,
            closure,
        )
        return [
            AidDecision(r["ps_id"], r["kind"], r["aid_on"], r["granted"], r["exploitable"], r["documents"])
            for r in records
        ]


@dataclass(frozen=True)
class AuditEntry:
    world: str
    document_id: str
    action: str
    subject: str
    habilitation: str
    granted: bool
    reason: str


class AuditLog:
    """Every access is written before it is answered; concurrent accesses share one COPY."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._pending: list[tuple[AuditEntry, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, entry: AuditEntry) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the accesses of this loop iteration join the batch
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.pool.acquire() as conn:
                    await conn.copy_records_to_table(
                        "audit",
                        schema_name="scor",
                        columns=(
                            "world",
                            "document_id",
                            "action",
                            "subject",
                            "habilitation",
                            "granted",
                            "reason",
                        ),
                        records=[
                            (e.world, e.document_id, e.action, e.subject, e.habilitation, e.granted, e.reason)
                            for e, _ in batch
                        ],
                    )
            except Exception as exc:  # noqa: BLE001 - each waiting access fails with the cause
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
