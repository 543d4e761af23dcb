"""kill -9 national-check in the middle of a replay of more than 5,000 FSE: nothing is lost,
nothing is doubled, the results equal an undisturbed run's."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest
from confluent_kafka import Consumer, TopicPartition

from fseflow.topics import FSE_RECEIVED
from fseflow_tools.demo import DemoShape, generate
from fseflow_tools.replay.driver import Progress, Replay
from fseflow_tools.replay.scenario import parse
from tests.conftest import Kill, RunningStack, comparable

pytestmark = pytest.mark.e2e

SHAPE = DemoShape(seed=11, business_days=5, professionals=40, patients=1500, fse_per_lot=(24, 32))


async def _state(database_url: str, world: str) -> dict[str, Any]:
    """What national-check remembers for a world, without the world's name."""
    conn = await asyncpg.connect(database_url)
    try:
        ais3 = await conn.fetch(
            "SELECT nir, day, count FROM national_check.ais3_daily WHERE world = $1", world
        )
        accorded = await conn.fetch(
            "SELECT ps_id, nir, act_on, code FROM national_check.accorded_acts WHERE world = $1", world
        )
        verdicts = await conn.fetchval("SELECT count(*) FROM national_check.verdicts WHERE world = $1", world)
    finally:
        await conn.close()
    return {
        "ais3": sorted(tuple(r) for r in ais3),
        "accorded": sorted(tuple(r) for r in accorded),
        "verdicts": verdicts,
    }


async def test_kill_9_national_check_mid_replay_changes_nothing(running: RunningStack) -> None:
    scenario = parse(generate(SHAPE))
    total = sum(len(lot["fse"]) for _, lot in scenario.lots())
    assert total >= 5000

    undisturbed = Replay(scenario, running.endpoints)
    expected = await undisturbed.run()

    instances = running.instances("national-check")
    kills: list[Kill] = []
    latest: list[Progress] = []

    async def kill_and_restart() -> None:
        for name in instances:  # each the moment it consumes day 3's lots
            kills.append(await asyncio.to_thread(running.kill_when_busy, name))
        kills_landed_on.append(latest[-1])
        # Worst case on top of the crash: the group's offsets are lost too, so every event of the
        # topic is delivered again and must be recognised as already handled.
        await asyncio.to_thread(_rewind_group, running)
        for name in instances:
            await asyncio.to_thread(running.start, name)

    tasks: list[asyncio.Task[None]] = []
    kills_landed_on: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        latest.append(progress)
        if progress.days_done == 2 and not tasks:
            tasks.append(asyncio.get_running_loop().create_task(kill_and_restart()))

    disturbed = Replay(scenario, running.endpoints, progress=on_progress)
    got = await disturbed.run()
    await asyncio.gather(*tasks)

    # The kills landed mid-work: each process had consumed records, the replay had days to go,
    # and each new process consumed after its restart.
    assert len(kills) == len(instances) >= 1
    assert all(k.consumed_before > 0 for k in kills), kills
    assert kills_landed_on[0].days_done < kills_landed_on[0].days_total, kills_landed_on
    assert all(running.state.services[k.name].pid != k.pid for k in kills)
    assert all(running.consumed(k.name) > 0 for k in kills)
    assert "lost" not in got
    assert comparable(got) == comparable(expected)
    classified = sum(1 for e in got["fse"].values() if e["classification"])
    before = await _state(running.state.database_url, undisturbed.world)
    after = await _state(running.state.database_url, disturbed.world)
    assert after == before
    assert after["verdicts"] == classified  # each FSE handled exactly once
    redelivered = sum(_counter(running.metrics(n), "fseflow_redelivered_events_total") for n in instances)
    assert redelivered >= total  # at least this replay's events came again, and changed nothing


def _counter(metrics: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith(name))


def _rewind_group(running: RunningStack) -> None:
    """Commit offset 0 on every partition for national-check's group, as its only member.

    (Tansu refuses commits from outside the group, so join it; the join completes once the
    killed members' sessions have expired.)
    """
    topic = running.kafka().names(FSE_RECEIVED)
    assigned: list[TopicPartition] = []
    count = FSE_RECEIVED.partition_count(running.kafka().settings.kafka_partitions)
    consumer = Consumer(
        {
            **running.client_config(),
            "group.id": "national-check",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
        }
    )
    try:
        consumer.subscribe([topic], on_assign=lambda _c, partitions: assigned.extend(partitions))
        deadline = time.monotonic() + 60
        while len(assigned) < count and time.monotonic() < deadline:
            consumer.poll(0.2)
        assert len(assigned) == count, f"rewind joined with {len(assigned)} partitions"
        consumer.commit(offsets=[TopicPartition(topic, p, 0) for p in range(count)], asynchronous=False)
    finally:
        consumer.close()
