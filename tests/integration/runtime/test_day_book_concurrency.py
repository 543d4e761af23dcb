"""Every day whose marks are all recorded is closed, once, in order — whatever the number of
replicas, the order the marks arrive in, concurrent closers, partitions moving between replicas,
and replicas killed between recording a mark and closing (their batch is delivered again, as
after a restart). Real PostgreSQL and a real outbox relay; each replica has its own pool, so the
transactions interleave for real."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date, timedelta

import asyncpg
import pytest

from fseflow import day_book, day_closer
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.db import Conn, create_pool
from fseflow.kafka.base import InRecord
from fseflow.outbox import OutboxRelay, outbox_table_ddl, traceparent_column_ddl
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration

INPUTS = {"in-a": 4, "in-b": 4}  # physical topic -> partitions
SOURCES = 3  # each partition needs the marks of 3 source partitions
DAYS = 40


class RecordingCloser(day_closer.DayCloser):
    stage = "day-book-test"

    def __init__(self, pool: asyncpg.Pool, relay: OutboxRelay, schema: str) -> None:
        self.marks_table = f"{schema}.day_marks"  # type: ignore[misc]
        self.closed_table = f"{schema}.closed_days"  # type: ignore[misc]
        super().__init__(pool, relay, kafka=None, inputs=INPUTS)  # type: ignore[arg-type]

    async def close_day(self, conn: Conn, world: str, day: date) -> object:
        await conn.execute(f"INSERT INTO {self.closed_table} (world, day) VALUES ($1, $2)", world, day)
        await day_book.forget_marks(conn, self.marks_table, world, day)
        return day


class Replica:
    """One stage process: records a batch of marks in one transaction, then closes what is ready;
    ``killed`` stops it in between (the batch is then delivered again, to whoever owns it)."""

    def __init__(self, pool: asyncpg.Pool, closer: RecordingCloser) -> None:
        self.pool = pool
        self.closer = closer

    async def deliver(self, world: str, batch: list[tuple[str, int, DayMark]], killed: bool) -> None:
        rows = [
            day_book.mark_row(mark, InRecord(topic, partition, 0, None, b"", [], 0))
            for topic, partition, mark in batch
        ]
        async with self.pool.acquire() as conn, conn.transaction():
            await day_book.add_marks(conn, self.closer.marks_table, rows)
        if not killed:
            await self.closer.close_ready_days(world)


async def _schema(dsn: str) -> str:
    schema = f"daybook_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"CREATE SCHEMA {schema};"
            + day_book.day_marks_ddl(f"{schema}.day_marks")
            + f"CREATE TABLE {schema}.closed_days (world text, day date, PRIMARY KEY (world, day));"
            + outbox_table_ddl(f"{schema}.outbox")
            + traceparent_column_ddl(f"{schema}.outbox")
        )
    finally:
        await conn.close()
    return schema


def _marks(world: str, day: date) -> list[tuple[str, int, DayMark]]:
    return [
        (
            topic,
            partition,
            DayMark(world=world, day=day.isoformat(), source_partition=s, source_partitions=SOURCES),
        )
        for topic, partitions in INPUTS.items()
        for partition in range(partitions)
        for s in range(SOURCES)
    ]


@pytest.mark.parametrize("replicas", [2, 3])
@pytest.mark.parametrize("seed", range(3))
async def test_every_complete_day_is_closed_once_in_order(
    running: RunningStack, replicas: int, seed: int
) -> None:
    rng = random.Random(seed * 10 + replicas)
    dsn = running.state.database_url
    schema = await _schema(dsn)
    producer = running.kafka().producer()
    await producer.start()
    pools = [await create_pool(dsn, max_size=3) for _ in range(replicas)]
    try:
        stages = []
        for pool in pools:
            closer = RecordingCloser(pool, OutboxRelay(pool, f"{schema}.outbox", producer), schema)
            stages.append(Replica(pool, closer))
        world = f"daybook-{uuid.uuid4().hex[:6]}"
        days = [date(2026, 3, 2) + timedelta(days=i) for i in range(DAYS)]
        partitions = [(t, p) for t, n in INPUTS.items() for p in range(n)]
        # Each partition's marks arrive in day order, in batches of random size; partitions move
        # between replicas at random; several days are in flight at once.
        queues: dict[tuple[str, int], list[tuple[str, int, DayMark]]] = {tp: [] for tp in partitions}
        for day in days:
            for topic, partition, mark in _marks(world, day):
                queues[(topic, partition)].append((topic, partition, mark))
        for queue in queues.values():
            rng.shuffle(queue)  # sources of one partition come in any order...
            queue.sort(key=lambda item: item[2].day)  # ...but a partition never sees D+1 before D
        owner = {tp: rng.randrange(replicas) for tp in partitions}
        kills = 0

        async def run_partition(tp: tuple[str, int]) -> None:
            nonlocal kills
            queue = queues[tp]
            while queue:
                size = rng.randint(1, 5)
                batch, rest = queue[:size], queue[size:]
                if rng.random() < 0.05:
                    owner[tp] = rng.randrange(replicas)  # a rebalance
                killed = rng.random() < 0.1
                await stages[owner[tp]].deliver(world, batch, killed)
                if killed:
                    kills += 1
                    owner[tp] = rng.randrange(replicas)  # redelivered to the next owner
                    continue
                queue[:] = rest
                await asyncio.sleep(0)

        await asyncio.gather(*(run_partition(tp) for tp in partitions))
        conn = await asyncpg.connect(dsn)
        try:
            closed = [
                r["day"] for r in await conn.fetch(f"SELECT day FROM {schema}.closed_days ORDER BY day")
            ]
            left = await conn.fetchval(f"SELECT count(*) FROM {schema}.day_marks")
        finally:
            await conn.close()
        assert kills > 0
        assert closed == days
        assert left == 0
    finally:
        for pool in pools:
            await pool.close()
        await producer.stop()
