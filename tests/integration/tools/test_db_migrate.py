"""`fseflow db migrate` on a fresh database applies every component's migrations once, as the
setup Job of deploy/k8s does before the services start; a second run applies nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from fseflow_tools.migrations import COMPONENTS, migrate_all, migrations_of
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration


@pytest.fixture
async def scratch_database(running: RunningStack) -> AsyncIterator[str]:
    admin = await asyncpg.connect(running.state.database_url)
    name = f"migrate_{uuid.uuid4().hex[:10]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{running.state.database_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_every_component_is_migrated_once(scratch_database: str) -> None:
    expected = {component: len(migrations_of(module)) for component, module in COMPONENTS}
    assert await migrate_all(scratch_database) == expected
    assert await migrate_all(scratch_database) == dict.fromkeys(expected, 0)
    conn = await asyncpg.connect(scratch_database)
    try:
        rows = await conn.fetch(
            "SELECT component, max(version) AS head FROM public.fseflow_migrations GROUP BY component"
        )
        schemas = {row["nspname"] for row in await conn.fetch("SELECT nspname FROM pg_namespace")}
    finally:
        await conn.close()
    assert {row["component"]: row["head"] for row in rows} == expected
    assert {"refdata", "world", "ingest", "national_check", "pointage", "scor", "relances"} <= schemas
