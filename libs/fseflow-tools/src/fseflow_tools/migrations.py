"""Every component's schema in one go (`fseflow db migrate`): what each service does for its own
schema at start-up (``fseflow.db.migrate``, under one advisory lock), run once before a release
rolls out — the setup Job of deploy/k8s — so that a migration that fails shows in one Job's log
instead of in every restarting pod."""

from __future__ import annotations

import importlib

from fseflow.db import create_pool, migrate

# (component as its code records it in public.fseflow_migrations, the module of its MIGRATIONS),
# in the order the services' start-up applies them: the shared schemas first.
COMPONENTS: tuple[tuple[str, str], ...] = (
    ("refdata", "fseflow.vocabulary.refdata"),
    ("world", "fseflow.world"),
    ("ingest", "ingest.adapters.postgres"),
    ("national-check", "national_check.adapters.postgres"),
    ("pointage", "pointage.adapters.postgres"),
    ("scor-store", "scor_store.adapters.postgres"),
    ("relances", "relances.adapters.postgres"),
)


def migrations_of(module: str) -> list[str]:
    found: list[str] = importlib.import_module(module).MIGRATIONS
    return found


async def migrate_all(database_url: str) -> dict[str, int]:
    """Apply what is missing of every component's migrations; versions applied, by component."""
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return {
            component: await migrate(pool, component, migrations_of(module))
            for component, module in COMPONENTS
        }
    finally:
        await pool.close()
