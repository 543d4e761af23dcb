"""Start-up steps several services share: topics, database, reference data, clock, clock relay."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from fseflow import world
from fseflow.business_clock import ClockFollower, ClockRelay, ClosureWork
from fseflow.db import create_pool
from fseflow.dlq_depth import DeadLetterDepth
from fseflow.kafka.base import Producer
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.settings import OpsSettings, PostgresSettings
from fseflow.streams import StreamProcessor
from fseflow.topics import CLOCK, TopicSpec, dead_letter_topic
from fseflow.vocabulary import refdata

log = logging.getLogger(__name__)


async def open_database(settings: PostgresSettings, runtime: ServiceRuntime) -> asyncpg.Pool:
    pool = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    runtime.add_cleanup(pool.close)
    await refdata_schema(pool)
    return pool


async def refdata_schema(pool: asyncpg.Pool) -> None:
    from fseflow.db import migrate

    await migrate(pool, "refdata", refdata.MIGRATIONS)
    await world.ensure_schema(pool)


async def wait_for_refdata(pool: asyncpg.Pool) -> None:
    """Reference data is loaded by `fseflow refdata load` (a Job on a cluster): wait for it."""
    warned = False
    while True:
        async with pool.acquire() as conn:
            count = await conn.fetchval("SELECT count(*) FROM refdata.acts")
        if count:
            return
        if not warned:
            log.warning("reference data not loaded yet: run `fseflow refdata load`; waiting")
            warned = True
        await asyncio.sleep(2)


def follow_clock(kafka: KafkaFactory, runtime: ServiceRuntime) -> ClockFollower:
    """Every service knows each world's last closed day from the clock topic."""
    follower = ClockFollower(
        kafka.consumer([CLOCK], group_id=None, assign_all_from="beginning", fetch_max_wait_ms=500)
    )
    runtime.add_task("clock-follower", follower.run, follower.request_stop, follower.readiness)
    return follower


def watch_dead_letters(
    kafka: KafkaFactory, runtime: ServiceRuntime, settings: OpsSettings
) -> DeadLetterDepth:
    """Every service reports how many records its dead-letter topic holds
    (fseflow_dead_letter_topic_records), refreshed every DLQ_DEPTH_INTERVAL_S."""
    depth = DeadLetterDepth(kafka, runtime.service, interval_s=settings.dlq_depth_interval_s)
    runtime.add_task("dlq-depth", depth.run, depth.request_stop)
    return depth


def relay_clock(
    kafka: KafkaFactory,
    runtime: ServiceRuntime,
    producer: Producer,
    *,
    outputs: list[TopicSpec],
    partitions: dict[str, int],
    group_id: str,
    stage: str = "clock-relay",
    on_closure: ClosureWork | None = None,
) -> None:
    """Close each day on the service's ``outputs`` (DayMarks on every partition, from
    ``partitions``, the physical topic's counts) as the clock closes it; ``on_closure`` first
    does the day's own work (business_clock.ClockRelay). ``group_id`` and ``stage`` name the
    consumer group and the metrics: they stay what a service deployed with."""
    service = runtime.service
    names = kafka.names
    relay = StreamProcessor(
        service=service,
        stage=stage,
        consumer=kafka.consumer([CLOCK], group_id=group_id),
        producer=producer,
        inputs={names(CLOCK): CLOCK},
        handler=ClockRelay(service, {names(t): partitions[names(t)] for t in outputs}, on_closure),
        dlq_topic=names(dead_letter_topic(service)),
        max_records=100,
        poll_timeout_s=0.1,
    )
    runtime.add_task(stage, relay.run, relay.request_stop, relay.readiness)
