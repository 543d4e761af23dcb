"""The runtime's PostgreSQL pieces on their own, against the real database and broker: the
transactional outbox, the idempotency table, the day book."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import date, timedelta

import asyncpg
import pytest

from fseflow import day_book, idempotency, outbox
from fseflow.codec import encode, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.db import create_pool
from fseflow.kafka.base import OutRecord, Producer
from fseflow.topics import scratch_topic
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration
DAY = date(2026, 3, 2)


@pytest.fixture
async def schema(running: RunningStack) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """A scratch schema with an outbox, an outputs table and a day book."""
    name = f"runtime_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(running.state.database_url, max_size=2)
    async with pool.acquire() as conn:
        await conn.execute(
            f"CREATE SCHEMA {name};"
            + outbox.outbox_table_ddl(f"{name}.outbox")
            + ";"
            + outbox.traceparent_column_ddl(f"{name}.outbox")
            + idempotency.outputs_table_ddl(f"{name}.outputs")
            + ";"
            + day_book.day_marks_ddl(f"{name}.day_marks")
            + f"CREATE TABLE {name}.closed_days (world text, day date, PRIMARY KEY (world, day));"
        )
    try:
        yield pool, name
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await pool.close()


class RecordingProducer:
    """The real producer, remembering each batch it was given; ``fail_first`` refuses the first."""

    def __init__(self, inner: Producer, fail_first: bool = False) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []
        self.fail_first = fail_first

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        return await self.inner.enqueue(records)

    async def send(self, records: Sequence[OutRecord]) -> None:
        if self.fail_first:
            self.fail_first = False
            raise ConnectionError("broker unreachable (injected)")
        await self.inner.send(records)
        self.batches.append(ids(records))

    async def partition_count(self, topic: str) -> int:
        return await self.inner.partition_count(topic)


def ids(records: Sequence[OutRecord]) -> list[str]:
    return [dict(r.headers or [])["ce_id"].decode() for r in records]


def mark(topic: str, n: int) -> OutRecord:
    return encode(
        DayMark(world="w", day=DAY.isoformat(), source_partition=n, source_partitions=1),
        topic=topic,
        event_id=event_id("runtime-test", topic, str(n)),
        source="tests",
        key=b"w",
    )


async def test_the_outbox_publishes_what_committed_in_order_marks_last(
    running: RunningStack, schema: tuple[asyncpg.Pool, str]
) -> None:
    pool, name = schema
    kafka = running.kafka("outbox-test")
    spec = scratch_topic("outbox", "tests")
    await kafka.ensure_topics([spec])
    topic = kafka.names(spec)
    data, closing, rolled_back = [mark(topic, n) for n in range(3)], [mark(topic, 9)], [mark(topic, 7)]
    async with pool.acquire() as conn:
        async with conn.transaction():
            await outbox.add(conn, f"{name}.outbox", data)
            await outbox.add(conn, f"{name}.outbox", closing, after=True)
        with pytest.raises(RuntimeError, match="rolled back"):
            async with conn.transaction():
                await outbox.add(conn, f"{name}.outbox", rolled_back)
                raise RuntimeError("rolled back")

    failing = RecordingProducer(kafka.producer(), fail_first=True)
    await failing.start()
    with pytest.raises(ConnectionError):
        await outbox.OutboxRelay(pool, f"{name}.outbox", failing).flush()
    await failing.stop()
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {name}.outbox WHERE published_at IS NULL") == 4

    producer = RecordingProducer(kafka.producer())
    await producer.start()
    relay = outbox.OutboxRelay(pool, f"{name}.outbox", producer)
    assert await relay.flush() == 4
    assert await relay.flush() == 0
    await producer.stop()
    # The data in one batch, then the mark: a mark never overtakes the data it closes; the
    # records of the failed attempt go out with the same event ids; the rolled-back one never.
    assert producer.batches == [ids(data), ids(closing)]


async def test_idempotency_returns_the_outputs_of_handled_events(schema: tuple[asyncpg.Pool, str]) -> None:
    pool, name = schema
    table = f"{name}.outputs"
    handled, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    async with pool.acquire() as conn:
        async with conn.transaction():
            await idempotency.record_outputs(conn, table, [(handled, "w", b"\x00output")])
        assert await idempotency.handled_outputs(conn, table, [handled, fresh]) == {handled: b"\x00output"}
        with pytest.raises(asyncpg.UniqueViolationError):
            async with conn.transaction():
                await idempotency.record_outputs(conn, table, [(handled, "w", b"again")])
        assert await idempotency.handled_outputs(conn, table, [handled]) == {handled: b"\x00output"}


async def test_the_day_book_completes_a_day_once_every_partition_has_every_mark(
    schema: tuple[asyncpg.Pool, str],
) -> None:
    pool, name = schema
    marks, closed = f"{name}.day_marks", f"{name}.closed_days"
    inputs = {"in-a": 2, "in-b": 1}
    rows = [
        ("w", DAY, "in-a", 0, 0, 2),
        ("w", DAY, "in-a", 0, 1, 2),
        ("w", DAY, "in-a", 1, 0, 2),
        ("w", DAY, "in-b", 0, 0, 1),
    ]
    async with pool.acquire() as conn:
        await day_book.add_marks(conn, marks, rows + rows[:1])  # a mark delivered twice counts once
        assert await day_book.next_complete_day(conn, marks, closed, "w", inputs) is None
        assert await day_book.missing_marks(conn, marks, "w", DAY, inputs) == ["in-a[1] (1 of 2 sources)"]
        assert await day_book.first_open_day(conn, marks, closed, "w") == DAY
        await day_book.add_marks(conn, marks, [("w", DAY, "in-a", 1, 1, 2)])
        assert await day_book.next_complete_day(conn, marks, closed, "w", inputs) == DAY
        await conn.execute(f"INSERT INTO {closed} VALUES ('w', $1)", DAY)
        assert await day_book.next_complete_day(conn, marks, closed, "w", inputs) is None
        assert await day_book.last_closed_days(conn, closed, ["w", "other"]) == {"w": DAY}
        # A batch redelivered after the day closed (its first reader died) records its marks
        # again; the closer deletes them (day_closer calls this when no day is complete).
        await day_book.forget_marks(conn, marks, "w", DAY)
        await day_book.add_marks(conn, marks, rows)
        await day_book.add_marks(conn, marks, [("w", DAY + timedelta(days=1), "in-b", 0, 0, 1)])
        await day_book.forget_marks_of_closed_days(conn, marks, closed, "w")
        left = await conn.fetch(f"SELECT day FROM {marks}")
        assert [r["day"] for r in left] == [DAY + timedelta(days=1)]  # an open day's mark stays
