"""The trivial-chain baseline: the pipeline's shape with no work in it.

The FSE path is producer (ingest) -> ``cti.fse-received`` -> national-check (2 processes by
default) -> ``cti.fse-classified`` -> pointage: two topics, one pass-through stage between them,
a consuming group at the end. The chain has the same: a producer writes ``hop-0``; pass-through
processes (as many as national-check's, one consumer group) consume it and produce each batch to
``hop-1``, committing after the broker's acknowledgement as the stream loop does; a sink group
consumes ``hop-1``. Same partitions (``KAFKA_PARTITIONS``), same client (``KAFKA_CLIENT``), same
record size as an FseReceived; no decoding, no PostgreSQL. Its msg/s divides the pipeline's
FSE/s: the efficiency figure (pipeline ÷ trivial chain).

Its topics (``scratch.load-chain-<tag>-<hop>``) are created by the run, as the admin on the
embedded stack; on a cluster the load tool's user needs Create and Write on ``scratch.`` and its
groups ``fseflow-load.chain-`` (docs/load-testing.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
from dataclasses import dataclass, replace
from typing import Any

from fseflow.kafka.base import OutRecord, next_offsets
from fseflow.kafka.factory import KafkaFactory
from fseflow.settings import KafkaSettings
from fseflow.topics import TopicSpec, scratch_topic
from fseflow_tools.stack_state import DEFAULT_REPLICAS

CLIENT_ID = "fseflow-load-chain"
# Names the chain's topics and groups start with (the load user's prefixed ACLs, load.access).
CHAIN_TOPIC_PREFIX = "scratch.load-chain-"
CHAIN_GROUP_PREFIX = "fseflow-load.chain-"
WARM_UP = 1_000
FSE_RECEIVED_BYTES = 190  # an FseReceived of the load lots, with its lot context: mean of 127..350 B


@dataclass(frozen=True)
class ChainPlan:
    tag: str
    messages: int = 200_000
    message_bytes: int = FSE_RECEIVED_BYTES
    hops: int = 2  # topics, as on the FSE path
    pass_through_processes: int = DEFAULT_REPLICAS["national-check"]

    def topics(self) -> list[TopicSpec]:
        """The same names at every call (the run's tag makes them unique): each spawned
        pass-through process rebuilds them from the plan."""
        purpose = CHAIN_TOPIC_PREFIX.removeprefix("scratch.")
        return [
            replace(scratch_topic(purpose, CLIENT_ID), name=f"{CHAIN_TOPIC_PREFIX}{self.tag}-{hop}")
            for hop in range(self.hops)
        ]

    def group(self, hop: int) -> str:
        """The group consuming topic ``hop`` (the last one is the sink's)."""
        return f"{CHAIN_GROUP_PREFIX}{self.tag}-{hop}"


def efficiency(pipeline_fse_per_s: float | None, chain_msgs_per_s: float | None) -> float | None:
    """Pipeline FSE/s ÷ trivial-chain msg/s (None when either is missing)."""
    if not pipeline_fse_per_s or not chain_msgs_per_s:
        return None
    return round(pipeline_fse_per_s / chain_msgs_per_s, 4)


def _pass_through(settings: KafkaSettings, plan: ChainPlan, hop: int, stop: Any) -> None:
    # A spawned process gets the plan and rebuilds the topics: a TopicSpec does not pickle.
    specs = plan.topics()
    source, target, group = specs[hop], specs[hop + 1], plan.group(hop)

    async def main() -> None:
        kafka = KafkaFactory(settings, CLIENT_ID)
        consumer = kafka.consumer([source], group_id=group)
        producer = kafka.producer()
        topic = kafka.names(target)
        await consumer.start()
        await producer.start()
        try:
            while not stop.is_set():
                records = await consumer.poll_batch(settings.kafka_max_batch, 0.1)
                if not records:
                    continue
                await producer.send([OutRecord(topic, r.value, r.key, r.headers) for r in records])
                await consumer.commit(next_offsets(records))
        finally:
            await producer.stop()
            await consumer.stop()

    asyncio.run(main())


async def run_chain(settings: KafkaSettings, plan: ChainPlan, *, within_s: float = 600.0) -> dict[str, Any]:
    """Produce ``plan.messages`` records through the chain; msg/s from the first send to the
    last record at the sink."""
    kafka = KafkaFactory(settings, CLIENT_ID)
    specs = plan.topics()
    await kafka.ensure_topics(specs)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    processes = [
        context.Process(
            target=_pass_through,
            args=(settings, plan, hop, stop),
            name=f"fseflow-load-chain-{hop}-{n}",
            daemon=True,
        )
        for hop in range(plan.hops - 1)
        for n in range(plan.pass_through_processes)
    ]
    for process in processes:
        process.start()
    sink = kafka.consumer([specs[-1]], group_id=plan.group(plan.hops - 1))
    producer = kafka.producer()
    await sink.start()
    await producer.start()
    try:
        await _joined(sink, within_s=60)
        topic = kafka.names(specs[0])
        payload = os.urandom(plan.message_bytes)
        received = 0

        async def consume(until: int) -> None:
            nonlocal received
            while received < until:
                records = await sink.poll_batch(10_000, 0.05)
                if records:
                    received += len(records)
                    await sink.commit(next_offsets(records), asynchronous=True)

        async def produce(first: int, count: int) -> None:
            for start in range(first, first + count, 5_000):
                size = min(5_000, first + count - start)
                await producer.send([OutRecord(topic, payload, str(start + i).encode()) for i in range(size)])

        # A warm-up through every hop first, so that the groups' joining is not in the figure.
        await produce(0, WARM_UP)
        await asyncio.wait_for(consume(WARM_UP), within_s)
        started = time.perf_counter()
        consuming = asyncio.create_task(consume(WARM_UP + plan.messages))
        await produce(WARM_UP, plan.messages)
        await asyncio.wait_for(consuming, within_s)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await producer.stop()
        await sink.stop()
        for process in processes:
            await asyncio.to_thread(process.join, 15)
            if process.is_alive():
                process.terminate()
    return {
        "msgs_per_s": round(plan.messages / elapsed, 1),
        "messages": plan.messages,
        "message_bytes": plan.message_bytes,
        "hops": plan.hops,
        "pass_through_processes": plan.pass_through_processes,
        "partitions": settings.kafka_partitions,
        "kafka_client": settings.kafka_client,
        "seconds": round(elapsed, 2),
    }


async def _joined(consumer: Any, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not consumer.has_joined():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the chain's sink got no partitions within {within_s:.0f}s")
        with contextlib.suppress(TimeoutError):
            await consumer.poll_batch(1, 0.2)
