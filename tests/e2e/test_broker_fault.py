"""Broker faults on a three-node Apache Kafka quorum (replication factor 3, min.insync.replicas 2,
acks=all, idempotent producers): kill -9 the node leading the most partitions of
cti.fse-received in the middle of a replay of more than 5,000 FSE, and start it again; then a
rolling restart of all three nodes during another replay. Each result — every FSE, payment,
notice and recovery — equals the undisturbed run's. Its own stack, not the session's."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import FSE_RECEIVED
from fseflow_tools.chaos import comparable, differences, scenario
from fseflow_tools.endpoints import from_stack
from fseflow_tools.kafka_broker import KafkaUnavailable, lib_dir
from fseflow_tools.replay.driver import Progress, Replay
from fseflow_tools.replay.scenario import Scenario, parse
from fseflow_tools.stack import Stack, StackState

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def quorum(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, StackState]]:
    if os.environ.get("FSEFLOW_BROKER") != "kafka":
        pytest.skip("a three-node Apache Kafka quorum: runs with FSEFLOW_BROKER=kafka (make test-kafka)")
    try:
        lib_dir()
    except KafkaUnavailable as exc:
        pytest.skip(str(exc))
    stack = Stack(Path(tmp_path_factory.mktemp("fseflow-quorum")), any_free_port=True)
    state = stack.ensure_up(broker="kafka", brokers=3, timeout=300).state
    try:
        yield stack, state
    finally:
        stack.down(state, wipe=True)


@pytest.fixture(scope="module")
def world() -> Scenario:
    document = scenario(fse=5200, business_days=8, seed=23)
    parsed = parse(document)
    assert sum(len(lot["fse"]) for _, lot in parsed.lots()) >= 5000
    return parsed


@pytest.fixture(scope="module")
def undisturbed(quorum: tuple[Stack, StackState], world: Scenario) -> dict[str, Any]:
    _stack, state = quorum
    assert state.kafka_replication_factor == 3 and len(state.kafka_nodes) == 3
    results = comparable(asyncio.run(Replay(world, from_stack(state)).run()))
    assert "lost" not in results
    assert results["payments"] and results["notices"] and results["totals"]["recovered"] > 0
    return results


def _leaders(state: StackState) -> Counter[int]:
    """Node id -> how many partitions of cti.fse-received it leads."""
    kafka = KafkaFactory(from_stack(state).kafka, "fseflow-tests")
    topic = kafka.names(FSE_RECEIVED)
    metadata = AdminClient(kafka.confluent_config()).list_topics(topic, timeout=10)
    return Counter(p.leader for p in metadata.topics[topic].partitions.values())


async def _replay_while(state: StackState, world: Scenario, disturb: Any) -> dict[str, Any]:
    """Replay ``world``; once two business days are through, run ``disturb`` in a thread."""
    tasks: list[asyncio.Task[Any]] = []

    def on_progress(progress: Progress) -> None:
        if progress.days_done == 2 and not tasks:
            tasks.append(asyncio.get_running_loop().create_task(asyncio.to_thread(disturb)))

    results = await Replay(world, from_stack(state), progress=on_progress).run()
    await asyncio.gather(*tasks)
    assert tasks, "the disturbance never ran"
    return comparable(results)


def test_kill_9_of_a_partition_leader_mid_replay_changes_nothing(
    quorum: tuple[Stack, StackState], world: Scenario, undisturbed: dict[str, Any]
) -> None:
    stack, state = quorum
    killed: list[tuple[int, int, int]] = []  # node, pid, partitions it led

    def kill_and_restart() -> None:
        node_id, led = _leaders(state).most_common(1)[0]
        node = stack.kafka_node(state, node_id)
        assert node.pid is not None
        killed.append((node_id, node.pid, led))
        stack.stop_kafka_node(state, node_id, signal.SIGKILL, wait=5)
        # Lots keep flowing on the two others (min.insync.replicas=2) once its partitions have
        # new leaders: the controller moves them after the broker session times out.
        deadline = time.monotonic() + 60
        while node_id in _leaders(state):
            assert time.monotonic() < deadline, f"node {node_id} still leads partitions 60 s after its kill"
            time.sleep(0.5)
        stack.start_kafka_node(state, node_id, timeout=180)

    got = asyncio.run(_replay_while(state, world, kill_and_restart))
    assert killed and killed[0][2] >= 1
    node_id, old_pid, _led = killed[0]
    assert stack.kafka_node(state, node_id).pid != old_pid
    assert got == undisturbed, differences(undisturbed, got)


def test_a_rolling_restart_of_every_node_mid_replay_changes_nothing(
    quorum: tuple[Stack, StackState], world: Scenario, undisturbed: dict[str, Any]
) -> None:
    stack, state = quorum
    before = {node.node_id: node.pid for node in state.kafka_nodes}

    got = asyncio.run(_replay_while(state, world, lambda: stack.restart_kafka(state, timeout=180)))
    after = {node.node_id: node.pid for node in state.kafka_nodes}
    assert all(after[n] != before[n] for n in before), (before, after)
    assert got == undisturbed, differences(undisturbed, got)
