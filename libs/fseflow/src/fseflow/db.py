"""PostgreSQL: the connection pool and a small, ordered, idempotent migration runner.

Each component owns a schema and a list of migrations; ``migrate`` applies the missing ones in
order under an advisory lock, so several replicas can start at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg

log = logging.getLogger(__name__)

# What handlers receive: a plain connection or one borrowed from a pool.
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

_LEDGER = """
CREATE TABLE IF NOT EXISTS public.fseflow_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=60)
    assert pool is not None
    return pool


async def migrate(pool: asyncpg.Pool, component: str, migrations: Sequence[str]) -> int:
    """Apply ``migrations[i]`` as version i+1 of ``component`` if not yet applied."""
    applied = 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('fseflow-migrations'))")
        await conn.execute(_LEDGER)
        done = {
            row["version"]
            for row in await conn.fetch(
                "SELECT version FROM public.fseflow_migrations WHERE component = $1", component
            )
        }
        for version, sql in enumerate(migrations, start=1):
            if version in done:
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO public.fseflow_migrations (component, version) VALUES ($1, $2)",
                component,
                version,
            )
            applied += 1
    if applied:
        log.info("%s: applied %d migration(s)", component, applied)
    return applied
