"""Transactional outbox: records decided in a PostgreSQL transaction are published after it.

A day's work (deliveries, validations, payments...) or a technician's decision changes state and
writes the records it must publish into the outbox table *in the same transaction*; a relay then
publishes unpublished rows in id order and marks them published. A crash between commit and
publication only delays them (the relay runs at start and after every commit), and a crash
between publication and marking republishes them with the same event ids, which consumers dedupe.

Rows flagged ``after`` (DayMarks) are sent only once every row before them is acknowledged: a
mark must never overtake the data it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from itertools import groupby

import asyncpg
from opentelemetry import trace

from fseflow.codec import H_TRACEPARENT, encode_raw
from fseflow.db import Conn
from fseflow.kafka.base import Headers, OutRecord, Producer
from fseflow.telemetry.tracing import inject_headers

log = logging.getLogger(__name__)

_BATCH = 20_000
_TRACER = trace.get_tracer(__name__)


def outbox_table_ddl(qualified_table: str) -> str:
    index = qualified_table.replace(".", "_") + "_unpublished"
    return f"""
    CREATE TABLE {qualified_table} (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        key bytea,
        value bytea NOT NULL,
        type text NOT NULL,
        event_id text NOT NULL,
        source text NOT NULL,
        partition integer,
        after boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    );
    CREATE INDEX {index} ON {qualified_table} (id) WHERE published_at IS NULL;
    """


def traceparent_column_ddl(qualified_table: str) -> str:
    """A later migration of every outbox: the trace context each record is published with."""
    return f"ALTER TABLE {qualified_table} ADD COLUMN traceparent text;"


def _traceparent(record: OutRecord, current: Headers) -> str | None:
    """The record's own trace context, else the current one (e.g. the day close's span)."""
    for key, value in [*(record.headers or ()), *current]:
        if key == H_TRACEPARENT:
            return str(value.decode())
    return None


def _current_trace(qualified_table: str) -> Headers:
    """Trace headers of the current span; without one (a console decision), of a new root span
    for these records, so that every published record carries a traceparent."""
    if trace.get_current_span().get_span_context().is_valid:
        return inject_headers()
    with _TRACER.start_as_current_span(f"outbox {qualified_table}"):
        return inject_headers()


def _header(record: OutRecord, name: str) -> str:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    raise ValueError(f"record for {record.topic} has no {name} header")


async def add(conn: Conn, qualified_table: str, records: Sequence[OutRecord], *, after: bool = False) -> None:
    """Write ``records`` (built with ``fseflow.codec.encode``) to the outbox, in order."""
    if not records:
        return
    schema, table = qualified_table.split(".")
    current = _current_trace(qualified_table)
    await conn.copy_records_to_table(
        table,
        schema_name=schema,
        columns=("topic", "key", "value", "type", "event_id", "source", "partition", "after", "traceparent"),
        records=[
            (
                r.topic,
                r.key,
                r.value,
                _header(r, "ce_type"),
                _header(r, "ce_id"),
                _header(r, "ce_source"),
                r.partition,
                after,
                _traceparent(r, current),
            )
            for r in records
        ],
    )


class OutboxRelay:
    """Publishes the outbox; one relay at a time per table (an advisory lock), so that rows go
    out in id order even with several replicas."""

    def __init__(self, pool: asyncpg.Pool, qualified_table: str, producer: Producer) -> None:
        self.pool = pool
        self.table = qualified_table
        self.producer = producer
        self.published = 0

    async def flush(self) -> int:
        """Publish every unpublished row; return how many were published."""
        published = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.table)
                rows = await conn.fetch(
                    f"""
                    SELECT id, topic, key, value, type, event_id, source, partition, after, traceparent
                    FROM {self.table} WHERE published_at IS NULL ORDER BY id LIMIT {_BATCH}
                    """
                )
                if not rows:
                    return published
                for _after, group in groupby(rows, key=lambda r: r["after"]):
                    await self.producer.send(
                        [
                            encode_raw(
                                bytes(r["value"]),
                                r["type"],
                                topic=r["topic"],
                                event_id=r["event_id"],
                                source=r["source"],
                                key=bytes(r["key"]) if r["key"] is not None else None,
                                partition=r["partition"],
                                trace_headers=(
                                    [(H_TRACEPARENT, r["traceparent"].encode())] if r["traceparent"] else None
                                ),
                            )
                            for r in group
                        ]
                    )
                await conn.execute(
                    f"UPDATE {self.table} SET published_at = now() WHERE id = ANY($1::bigint[])",
                    [r["id"] for r in rows],
                )
                published += len(rows)
                self.published += len(rows)

    async def prune(self, keep_hours: int = 24) -> None:
        """Published rows are only kept for a post-mortem."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                f"DELETE FROM {self.table} WHERE published_at < now() - make_interval(hours => $1)",
                keep_hours,
            )


OUTBOX_SWEEP_S = 5.0


class OutboxSweeper:
    """Publishes what a failed flush left behind, and prunes old published rows."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        sweeps = 0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), OUTBOX_SWEEP_S)
            try:
                await self.relay.flush()
                sweeps += 1
                if sweeps % 720 == 0:  # about hourly
                    await self.relay.prune()
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                log.warning("outbox sweep failed: %r", exc)
