"""Durable business-clock bookkeeping for stages that close days in PostgreSQL (pointage,
relances): which DayMarks reached which input partition, and which days are closed.

Marks live in the database, not in memory, so that several replicas (each reading some
partitions) and restarts agree: the replica whose commit completes a day closes it, under a
per-world advisory lock, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fseflow.business_clock import checked_mark
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.db import Conn
from fseflow.kafka.base import InRecord

# world, day, topic, partition, source partition, source partitions expected
MarkRow = tuple[str, date, str, int, int, int]


def mark_row(mark: DayMark, record: InRecord) -> MarkRow:
    """The row recording ``mark`` read from ``record``; ValueError naming the field when the mark
    is damaged (it goes to the dead-letter topic, it never completes a day)."""
    return (
        mark.world,
        checked_mark(mark),
        record.topic,
        record.partition,
        mark.source_partition,
        mark.source_partitions,
    )


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


async def forget_marks_of_closed_days(conn: Conn, marks_table: str, closed_table: str, world: str) -> None:
    """Marks of a day already closed arrive again when a batch is redelivered after another
    replica closed that day (its first delivery recorded them, then its process died): they
    count for nothing and are deleted, so the table holds only open days' marks."""
    await conn.execute(
        f"""
        DELETE FROM {marks_table}
        WHERE world = $1 AND day <= (SELECT max(day) FROM {closed_table} WHERE world = $1)
        """,
        world,
    )


async def last_closed_days(conn: Conn, closed_table: str, worlds: Sequence[str]) -> dict[str, date]:
    rows = await conn.fetch(
        f"SELECT world, max(day) AS day FROM {closed_table} WHERE world = ANY($1::text[]) GROUP BY world",
        list(worlds),
    )
    return {row["world"]: row["day"] for row in rows}


async def first_open_day(conn: Conn, marks_table: str, closed_table: str, world: str) -> date | None:
    """The earliest day with marks recorded and not closed yet."""
    value = await conn.fetchval(
        f"""
        SELECT min(m.day) FROM {marks_table} m
        WHERE m.world = $1
          AND NOT EXISTS (SELECT 1 FROM {closed_table} c WHERE c.world = $1 AND c.day = m.day)
        """,
        world,
    )
    return value if isinstance(value, date) else None


async def missing_marks(
    conn: Conn, marks_table: str, world: str, day: date, inputs: dict[str, int]
) -> list[str]:
    """Input partitions (physical topic -> partitions) that lack some of ``day``'s DayMarks:
    ``topic[p] (k of n sources)``, or ``(none)`` when no mark reached it."""
    rows = await conn.fetch(
        f"""
        SELECT topic, partition, count(*) AS seen, max(expected) AS expected
        FROM {marks_table} WHERE world = $1 AND day = $2
        GROUP BY topic, partition
        """,
        world,
        day,
    )
    seen = {(r["topic"], r["partition"]): (r["seen"], r["expected"]) for r in rows}
    missing = []
    for topic, partitions in inputs.items():
        for partition in range(partitions):
            count, expected = seen.get((topic, partition), (0, 0))
            if not count:
                missing.append(f"{topic}[{partition}] (none)")
            elif count < expected:
                missing.append(f"{topic}[{partition}] ({count} of {expected} sources)")
    return missing
