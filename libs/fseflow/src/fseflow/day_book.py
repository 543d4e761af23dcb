"""Durable business-clock bookkeeping for stages that close days in PostgreSQL (pointage,
relances): which DayMarks reached which input partition, and which days are closed.

Marks live in the database, not in memory, so that several replicas (each reading some
partitions) and restarts agree: the replica whose commit completes a day closes it, under a
per-world advisory lock, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fseflow.db import Conn

# world, day, topic, partition, source partition, source partitions expected
MarkRow = tuple[str, date, str, int, int, int]


def day_marks_ddl(qualified_table: str) -> str:
    return f"""
    CREATE TABLE {qualified_table} (
        world text NOT NULL,
        day date NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        source integer NOT NULL,
        expected integer NOT NULL,
        PRIMARY KEY (world, day, topic, partition, source)
    );
    """


async def add_marks(conn: Conn, qualified_table: str, rows: Sequence[MarkRow]) -> None:
    if not rows:
        return
    columns = [[row[i] for row in rows] for i in range(6)]
    await conn.execute(
        f"""
        INSERT INTO {qualified_table} (world, day, topic, partition, source, expected)
        SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::int[], $5::int[], $6::int[])
        ON CONFLICT DO NOTHING
        """,
        *columns,
    )


async def lock_world(conn: Conn, stage: str, world: str) -> None:
    """Serialise one stage's day work for one world (held until the transaction ends)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))", stage, world)


async def next_complete_day(
    conn: Conn, marks_table: str, closed_table: str, world: str, inputs: dict[str, int]
) -> date | None:
    """The earliest day not closed yet whose marks reached every partition of every input
    (physical topic -> partitions)."""
    value = await conn.fetchval(
        f"""
        SELECT day FROM (
            SELECT m.day, m.topic, m.partition
            FROM {marks_table} m
            JOIN unnest($2::text[], $3::int[]) AS i(topic, partitions)
              ON i.topic = m.topic AND m.partition < i.partitions
            WHERE m.world = $1
              AND NOT EXISTS (SELECT 1 FROM {closed_table} c WHERE c.world = $1 AND c.day = m.day)
            GROUP BY m.day, m.topic, m.partition
            HAVING count(*) >= max(m.expected)
        ) complete
        GROUP BY day HAVING count(*) = $4
        ORDER BY day LIMIT 1
        """,
        world,
        list(inputs),
        list(inputs.values()),
        sum(inputs.values()),
    )
    return value if isinstance(value, date) else None


async def forget_marks(conn: Conn, marks_table: str, world: str, day: date) -> None:
    await conn.execute(f"DELETE FROM {marks_table} WHERE world = $1 AND day <= $2", world, day)
