"""Pointage's day book (fseflow.day_book): the DayMarks of its inputs and the days it closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fseflow import day_book
from fseflow.db import Conn

# -- the business clock (fseflow.day_book) ------------------------------------------------------
DAY_MARKS = "pointage.day_marks"
CLOSED_DAYS = "pointage.closed_days"
MarkRow = day_book.MarkRow


async def add_marks(conn: Conn, rows: Sequence[MarkRow]) -> None:
    await day_book.add_marks(conn, DAY_MARKS, rows)


async def record_closed_day(conn: Conn, world: str, day: date, counts: dict[str, int]) -> None:
    await conn.execute(
        """
        INSERT INTO pointage.closed_days (world, day, delivered, validated, paid, matched)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        world,
        day,
        counts["delivered"],
        counts["validated"],
        counts["paid"],
        counts["matched"],
    )
    await day_book.forget_marks(conn, DAY_MARKS, world, day)


async def organisms(conn: Conn, world: str) -> list[str]:
    """The pôles of a world: its organisms and its professionals' ones."""
    rows = await conn.fetch(
        """
        SELECT organism FROM world.organisms WHERE world = $1
        UNION SELECT organism FROM world.professionals WHERE world = $1
        UNION SELECT DISTINCT organism FROM pointage.fse WHERE world = $1 AND state = 'received'
        ORDER BY 1
        """,
        world,
    )
    return [r["organism"] for r in rows]


async def compagnon_members(conn: Conn, world: str) -> set[str]:
    rows = await conn.fetch("SELECT ps_id FROM world.professionals WHERE world = $1 AND compagnon", world)
    return {r["ps_id"] for r in rows}
