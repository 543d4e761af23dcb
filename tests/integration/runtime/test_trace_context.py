"""Every data record the pipeline publishes carries a W3C trace context, including the ones
published later from an outbox (the caisse topics, the settlements, the relances). The clock's
control records (DayClosed, DayMark) belong to no request and carry none."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import load
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration

EVERY_REASON = Path(__file__).parents[2] / "e2e" / "scenarios" / "every-reason.json"


def _records_of(
    config: dict[str, Any], prefixes: tuple[str, ...], world: str
) -> dict[str, list[dict[str, bytes]]]:
    """Headers of every record of ``world`` (its key starts with the world) on matching topics."""
    consumer = Consumer({**config, "group.id": "trace-test", "enable.auto.commit": False})
    try:
        topics = [t for t in consumer.list_topics(timeout=10).topics if t.startswith(prefixes)]
        consumer.assign(
            [
                TopicPartition(t, p, 0)
                for t in topics
                for p in consumer.list_topics(t, timeout=10).topics[t].partitions
            ]
        )
        found: dict[str, list[dict[str, bytes]]] = {}
        idle = 0
        while idle < 20:  # 20 empty polls of 0.25 s in a row: read to the end
            batch = consumer.consume(1000, 0.25)
            idle = 0 if batch else idle + 1
            for message in batch:
                headers = dict(message.headers() or [])
                if headers.get("ce_type", b"").startswith(b"fseflow.clock."):
                    continue
                if message.error() is None and world.encode() in (message.value() or b""):
                    found.setdefault(message.topic(), []).append(headers)
        return found
    finally:
        consumer.close()


async def test_every_published_record_carries_a_traceparent(running: RunningStack) -> None:
    results = await Replay(load(EVERY_REASON), running.endpoints).run()
    world = results["world"]
    found = await asyncio.to_thread(
        _records_of,
        running.client_config(),
        ("caisse.", "pointage.", "relances.", "cti.", "scor."),
        world,
    )
    assert any(t.startswith("caisse.") for t in found), sorted(found)
    without = {t: sum("traceparent" not in h for h in headers) for t, headers in found.items()}
    assert not {t: n for t, n in without.items() if n}, without
