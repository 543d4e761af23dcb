"""PostgreSQL side of ingest: the durable register of received lots and the PS directory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import date

import asyncpg

from fseflow.db import Conn
from ingest.domain.validation import LotProblem

MIGRATIONS = [
    """
    CREATE SCHEMA IF NOT EXISTS ingest;
    CREATE TABLE ingest.lots (
        world text NOT NULL,
        lot_id text NOT NULL,
        ps_id text NOT NULL,
        received_on date NOT NULL,
        positive boolean NOT NULL,
        cti integer NOT NULL,
        fse_count integer NOT NULL,
        problems jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        duplicate_attempts integer NOT NULL DEFAULT 0,
        PRIMARY KEY (world, lot_id)
    );
    """,
    # Which patient each accepted FSE is for: a document sent later finds its insured's organism.
    """
    CREATE TABLE ingest.fse_index (
        world text NOT NULL,
        fse_id text NOT NULL,
        lot_id text NOT NULL,
        nir text NOT NULL,
        PRIMARY KEY (world, fse_id, lot_id)
    );
    """,
    # The client's idempotency key and the ARL it got: a retry gets the same answer.
    """
    ALTER TABLE ingest.lots ADD COLUMN request_id text, ADD COLUMN arl bytea;
    """,
]


@dataclass(frozen=True)
class ProfessionalRef:
    ps_id: str
    organism: str
    replacing: str | None
    scor_since: date | None = None

    def channel_on(self, day: date) -> str:
        """Scor users scan and send their documents; the others post paper, scanned by the caisse."""
        return "scor" if self.scor_since is not None and self.scor_since <= day else "paper"


class LotTransaction:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    async def professional(self, world: str, ps_id: str) -> ProfessionalRef | None:
        return await _professional(self._conn, world, ps_id)

    async def patient_organisms(self, world: str, nirs: list[str]) -> dict[str, str]:
        rows = await self._conn.fetch(
            "SELECT nir, organism FROM world.patients WHERE world = $1 AND nir = ANY($2::text[])", world, nirs
        )
        return {r["nir"]: r["organism"] for r in rows}

    async def index_fse(self, world: str, lot_id: str, fse: list[tuple[str, str]]) -> None:
        """Remember (fse_id, nir) of an accepted lot's FSE."""
        await self._conn.copy_records_to_table(
            "fse_index",
            schema_name="ingest",
            columns=("world", "fse_id", "lot_id", "nir"),
            records=[(world, fse_id, lot_id, nir) for fse_id, nir in fse],
        )

    async def record_lot(
        self,
        *,
        world: str,
        lot_id: str,
        ps_id: str,
        received_on: date,
        positive: bool,
        cti: int,
        fse_count: int,
        problems: list[LotProblem],
        request_id: str = "",
    ) -> bool:
        """Register the lot; False when its id was already received (the first one stays)."""
        inserted = await self._conn.fetchval(
            """
            INSERT INTO ingest.lots
                (world, lot_id, ps_id, received_on, positive, cti, fse_count, problems, request_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, NULLIF($9, ''))
            ON CONFLICT (world, lot_id) DO NOTHING
            RETURNING true
            """,
            world,
            lot_id,
            ps_id,
            received_on,
            positive,
            cti,
            fse_count,
            json.dumps([asdict(p) for p in problems]),
            request_id,
        )
        return bool(inserted)

    async def answer_of(self, world: str, lot_id: str, request_id: str) -> bytes | None:
        """The ARL the lot got when it was registered under ``request_id`` (a retry), if so."""
        if not request_id:
            return None
        value = await self._conn.fetchval(
            "SELECT arl FROM ingest.lots WHERE world = $1 AND lot_id = $2 AND request_id = $3",
            world,
            lot_id,
            request_id,
        )
        return bytes(value) if value is not None else None

    async def keep_answer(self, world: str, lot_id: str, arl: bytes) -> None:
        await self._conn.execute(
            "UPDATE ingest.lots SET arl = $3 WHERE world = $1 AND lot_id = $2", world, lot_id, arl
        )

    async def count_duplicate_attempt(self, world: str, lot_id: str) -> int:
        """Number this resubmission of an already received lot id (1, 2...)."""
        attempts = await self._conn.fetchval(
            """
            UPDATE ingest.lots SET duplicate_attempts = duplicate_attempts + 1
            WHERE world = $1 AND lot_id = $2 RETURNING duplicate_attempts
            """,
            world,
            lot_id,
        )
        return int(attempts)


async def _professional(conn: Conn, world: str, ps_id: str) -> ProfessionalRef | None:
    row = await conn.fetchrow(
        "SELECT ps_id, organism, replacing, scor_since FROM world.professionals"
        " WHERE world = $1 AND ps_id = $2",
        world,
        ps_id,
    )
    if row is None:
        return None
    return ProfessionalRef(row["ps_id"], row["organism"], row["replacing"], row["scor_since"])


class LotStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def professional(self, world: str, ps_id: str) -> ProfessionalRef | None:
        async with self._pool.acquire() as conn:
            return await _professional(conn, world, ps_id)

    async def insured_organism_of_fse(self, world: str, fse_id: str) -> str | None:
        """The organism of the insured person of an FSE already received, if it is known."""
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(
                """
                SELECT p.organism FROM ingest.fse_index f
                JOIN world.patients p ON p.world = f.world AND p.nir = f.nir
                WHERE f.world = $1 AND f.fse_id = $2
                LIMIT 1
                """,
                world,
                fse_id,
            )
        return value if isinstance(value, str) else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LotTransaction]:
        """One lot, one transaction: its row stays locked until its FSE are acknowledged."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield LotTransaction(conn)

    async def world_start(self, world: str) -> date | None:
        async with self._pool.acquire() as conn:
            value = await conn.fetchval("SELECT start_day FROM world.worlds WHERE world = $1", world)
        return value if isinstance(value, date) else None
