"""Pointage's upgrade path: v1 as released, then v5 (the change v1 was once edited into).

A database created by the released v1 gets its FSE bytes wrapped as FseClassified events and its
per-delivery counts; one created by the edited v1 (before the restoration) is left as it was. Both
end with the schema of a fresh database at the head.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, Fse
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.db import create_pool, migrate
from pointage.adapters.postgres import MIGRATIONS
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration

# What v1 was edited into before its restoration (the same text, edited as e5a155d did).
EDITED_V1 = (
    MIGRATIONS[0]
    .replace("fse bytea NOT NULL", "classified bytea NOT NULL")
    .replace(
        "CREATE INDEX fse_by_delivery ON pointage.fse (world, organism, delivered_on);",
        """CREATE TABLE pointage.deliveries (
        world text NOT NULL,
        organism text NOT NULL,
        delivered_on date NOT NULL,
        classification text NOT NULL,
        fse integer NOT NULL,
        PRIMARY KEY (world, organism, delivered_on, classification)
    );""",
    )
)


@pytest.fixture
async def scratch_databases(running: RunningStack) -> AsyncIterator[list[str]]:
    admin = await asyncpg.connect(running.state.database_url)
    names = [f"migrations_{uuid.uuid4().hex[:10]}_{i}" for i in range(3)]
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        base = running.state.database_url.rsplit("/", 1)[0]
        yield [f"{base}/{name}" for name in names]
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _schema(pool: asyncpg.Pool) -> list[tuple[object, ...]]:
    async with pool.acquire() as conn:
        columns = await conn.fetch(
            """SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default
               FROM information_schema.columns WHERE table_schema = 'pointage'"""
        )
        indexes = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'pointage'")
        routines = await conn.fetch(
            "SELECT routine_name FROM information_schema.routines WHERE routine_schema = 'pointage'"
        )
    return sorted(tuple(r.values()) for r in [*columns, *indexes, *routines])


FSE_V1_COLUMNS = (
    "world, fse_id, lot_id, ps_id, organism, patient_organism, cti, nir, mode, received_on, checked_on, "
    "classification, reasons, amount_cents, acts, rectifies, fse, state, delivered_on"
)


async def test_released_v1_upgrades_to_the_head(scratch_databases: list[str]) -> None:
    claim = Fse(fse_id="f-1", nir="1850575123456", acts=[ActLine(code="AMI", coefficient="4")] * 200)
    pools = [await create_pool(url, max_size=1) for url in scratch_databases]
    released, edited, fresh = pools
    try:
        assert await migrate(released, "pointage", MIGRATIONS[:4]) == 4
        async with released.acquire() as conn:
            rows = [
                ("w", f"f-{i}", "l", "ps-1", "01-331", "01-331", 1, "1850575123456", 1, date(2026, 3, 2),
                 date(2026, 3, 2), "accord", "", 756, 200, "", claim.SerializeToString(), "paid",
                 date(2026, 3, 3) if i < 2 else None)
                for i in range(3)
            ]  # fmt: skip
            await conn.executemany(
                f"INSERT INTO pointage.fse ({FSE_V1_COLUMNS}) VALUES "
                f"({', '.join(f'${i}' for i in range(1, 20))})",
                rows,
            )
        assert await migrate(released, "pointage", MIGRATIONS) == len(MIGRATIONS) - 4
        async with released.acquire() as conn:
            kept = await conn.fetch("SELECT classified FROM pointage.fse ORDER BY fse_id")
            deliveries = await conn.fetch(
                "SELECT organism, delivered_on, classification, fse FROM pointage.deliveries"
            )
        assert [FseClassified.FromString(r["classified"]).fse for r in kept] == [claim] * 3
        assert [tuple(r.values()) for r in deliveries] == [("01-331", date(2026, 3, 3), "accord", 2)]

        # A database created by the edited v1 (v1-v4 recorded): v5 changes nothing there.
        async with edited.acquire() as conn:
            await conn.execute(EDITED_V1)
            for sql in MIGRATIONS[1:4]:
                await conn.execute(sql)
            await conn.execute(
                "CREATE TABLE public.fseflow_migrations (component text NOT NULL, version integer NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version));"
                "INSERT INTO public.fseflow_migrations (component, version) "
                "SELECT 'pointage', generate_series(1, 4)"
            )
        assert await migrate(edited, "pointage", MIGRATIONS) == len(MIGRATIONS) - 4

        assert await migrate(fresh, "pointage", MIGRATIONS) == len(MIGRATIONS)
        head = await _schema(fresh)
        assert ("fse", "fse_by_delivery") not in [row[:2] for row in head]
        assert await _schema(released) == head
        assert await _schema(edited) == head
    finally:
        for pool in pools:
            await pool.close()
