"""Exactly-once effects over an at-least-once broker: dedupe on the event id in PostgreSQL.

A consumer that writes PostgreSQL keeps an "outputs" table keyed by the id of the event it
consumed, holding the serialized records that event produced. In the same transaction as its
state change it looks up which events of a batch it already handled; those are not applied
again, and their stored outputs are re-published byte for byte, so a replay after a crash gives
the same downstream records (which downstream dedupes in turn).
"""

from __future__ import annotations

from collections.abc import Sequence

from fseflow.db import Conn


def outputs_table_ddl(qualified_table: str) -> str:
    return f"""
    CREATE TABLE {qualified_table} (
        event_id uuid PRIMARY KEY,
        world text NOT NULL,
        output bytea NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now()
    )
    """


async def handled_outputs(conn: Conn, qualified_table: str, event_ids: Sequence[str]) -> dict[str, bytes]:
    """Stored output of every event of ``event_ids`` already handled."""
    rows = await conn.fetch(
        f"SELECT event_id::text, output FROM {qualified_table} WHERE event_id = ANY($1::text[]::uuid[])",
        list(event_ids),
    )
    return {row["event_id"]: bytes(row["output"]) for row in rows}


async def record_outputs(conn: Conn, qualified_table: str, rows: Sequence[tuple[str, str, bytes]]) -> None:
    """Record (event_id, world, output) rows; a conflicting id aborts the transaction."""
    if not rows:
        return
    schema, table = qualified_table.split(".")
    await conn.copy_records_to_table(
        table,
        schema_name=schema,
        columns=("event_id", "world", "output"),
        records=rows,
    )
