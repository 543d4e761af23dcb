"""``fseflow relances bench`` (in ``make bench``): 1,000,000 open deadlines, then one day closure
firing 50,000 of them — time to fire (target < 5 s), published included, and the process's
memory — against the raw baseline of the same run: one bare UPDATE of the same 50,000 rows.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from fseflow import world as world_data
from fseflow.db import create_pool, migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.settings import KafkaSettings
from fseflow.world import Professional, WorldData
from relances.adapters import postgres as pg
from relances.adapters.events import RelanceEvents
from relances.domain.deadlines import Step
from relances.handlers.day_close import DayCloser

CLOSED_DAY = date(2026, 4, 8)  # J30 of the FSE paid on Monday 9 March 2026
ORGANISM = "01-331"


@dataclass
class RelancesBenchConfig:
    open_deadlines: int = 1_000_000
    due: int = 50_000
    seed: int = 5


async def run(
    settings: KafkaSettings, database_url: str, config: RelancesBenchConfig, console: Console
) -> dict[str, Any]:
    rng = random.Random(config.seed)  # noqa: S311 - load generation
    world = f"bench-relances-{uuid.uuid4().hex[:8]}"
    kafka = KafkaFactory(settings, client_id="fseflow-relances-bench")
    pool = await create_pool(database_url, max_size=4)
    producer = kafka.producer()
    await producer.start()
    process = psutil.Process()
    try:
        await migrate(pool, "relances", pg.MIGRATIONS)
        await world_data.load(
            pool,
            world,
            WorldData([ORGANISM], [Professional("bench-ps", "331000000", ORGANISM)]),
            name="bench",
        )
        console.print(
            f"relances: {config.open_deadlines:,} open deadlines, {config.due:,} due on {CLOSED_DAY}..."
        )
        paid_on = date(2026, 3, 9)
        rows = []
        for i in range(config.open_deadlines):
            # The first ``due`` are due on the closed day; the others later: never read by it.
            due_on = CLOSED_DAY if i < config.due else CLOSED_DAY + timedelta(days=rng.randint(1, 120))
            rows.append(
                (world, f"f-{i}", f"ps-{i % 5000}", ORGANISM, paid_on, 1512, ["AMI 4 du 2026-03-02"],
                 int(Step.OVERDUE), due_on, None, pg.OPEN)
            )  # fmt: skip
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(
                "deadlines",
                schema_name="relances",
                columns=(
                    "world",
                    "fse_id",
                    "ps_id",
                    "organism",
                    "paid_on",
                    "amount_cents",
                    "acts",
                    "step",
                    "due_on",
                    "matched_on",
                    "state",
                ),
                records=rows,
            )
            await conn.execute("ANALYZE relances.deadlines")
        del rows
        relay = OutboxRelay(pool, pg.OUTBOX, producer)
        await relay.flush()
        closer = DayCloser(pool, RelanceEvents(kafka.names), relay, kafka, {})
        await closer.ensure_caisse_topics([ORGANISM])
        rss_before = process.memory_info().rss
        started = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            summary = await closer.close_day(conn, world, CLOSED_DAY)
        closed = time.perf_counter()
        published = await relay.flush()
        finished = time.perf_counter()
        rss_after = process.memory_info().rss
        assert summary.fired == config.due, summary

        async with pool.acquire() as conn:
            # (``world`` is ours: "bench-relances-" and hex digits.)
            await conn.execute(
                f"""CREATE TEMP TABLE bench_deadlines AS SELECT * FROM relances.deadlines
                    WHERE world = '{world}'"""
            )
            # Back to before the closure: the fired ones moved on to their reminder.
            await conn.execute(
                "UPDATE bench_deadlines SET state = 'open', step = 1, "
                "due_on = CASE WHEN step = 2 THEN $1 ELSE due_on END",
                CLOSED_DAY,
            )
            await conn.execute("CREATE INDEX ON bench_deadlines (world, due_on) WHERE state = 'open'")
            await conn.execute("ANALYZE bench_deadlines")
            started_raw = time.perf_counter()
            status = await conn.execute(
                "UPDATE bench_deadlines SET state = 'fired' "
                "WHERE world = $1 AND state = 'open' AND due_on <= $2",
                world,
                CLOSED_DAY,
            )
            raw_s = time.perf_counter() - started_raw
            assert status.endswith(str(config.due)), status
            await conn.execute("DROP TABLE bench_deadlines")
            await conn.execute("DELETE FROM relances.deadlines WHERE world = $1", world)
    finally:
        await producer.stop()
        await pool.close()
    figures = {
        "open_deadlines": config.open_deadlines,
        "fired": config.due,
        "fire_seconds": round(closed - started, 3),
        "fire_and_publish_seconds": round(finished - started, 3),
        "records_published": published,
        "raw_update_seconds": round(raw_s, 3),
        "rss_mb": round(rss_after / 2**20, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "target_seconds": 5.0,
        "met": finished - started < 5.0,
    }
    table = Table(title="fseflow relances bench")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("raw baseline, same run", justify="right")
    table.add_row(
        f"close a day: fire {config.due:,} of {config.open_deadlines:,} open deadlines (target < 5 s)",
        f"{figures['fire_seconds']:.2f} s ({figures['fire_and_publish_seconds']:.2f} s published)",
        f"bare UPDATE {figures['raw_update_seconds']:.3f} s",
    )
    table.add_row(
        "memory of the process after the closure",
        f"{figures['rss_mb']:,.0f} MB (+{figures['rss_growth_mb']:,.0f} MB)",
        "",
    )
    console.print(table)
    return figures
