"""The stack on Apache Kafka through the command line, on a stack of this module's own: `status`
and `env` say which broker runs and with whose credentials; `down` keeps the data and `up` starts
the same node on it again (the topics still hold what a replay wrote); a node killed with
SIGKILL is started again by `up`; a node that cannot start is named with the reason from its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from fseflow_tools.kafka_broker import KafkaUnavailable, lib_dir
from fseflow_tools.kafka_broker import config_file as kafka_config_file
from fseflow_tools.stack import Stack, StackState

pytestmark = pytest.mark.integration

EVERY_REASON = Path(__file__).parents[2] / "e2e" / "scenarios" / "every-reason.json"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.environ.get("FSEFLOW_BROKER") != "kafka":
        pytest.skip("a stack on Apache Kafka of its own: runs with FSEFLOW_BROKER=kafka (make test-kafka)")
    try:
        lib_dir()
    except KafkaUnavailable as exc:
        pytest.skip(str(exc))
    path = tmp_path_factory.mktemp("kafka-stack")
    yield path
    stack = Stack(path)
    if stack.load() is not None:
        stack.down(wipe=True)


def fseflow(home: Path, *arguments: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_URL", "POINTAGE_"))}
    env.update(FSEFLOW_HOME=str(home), FSEFLOW_ANY_FREE_PORT="1", FSEFLOW_BROKER="kafka")
    return subprocess.run(
        [sys.executable, "-m", "fseflow_tools.cli.main", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _state(home: Path) -> StackState:
    state = Stack(home).load()
    assert state is not None
    return state


def _records(state: StackState, topic: str) -> int:
    """How many records ``topic`` holds (its high-water marks), read as the admin."""
    from fseflow.kafka.factory import KafkaFactory
    from fseflow_tools.endpoints import from_stack

    config: dict[str, Any] = KafkaFactory(from_stack(state).kafka, "fseflow-tests").confluent_config()
    consumer = Consumer({**config, "group.id": "fseflow-tests-reader"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
        )
    finally:
        consumer.close()


def test_down_keeps_the_data_and_up_starts_the_broker_on_it(home: Path, tmp_path: Path) -> None:
    up = fseflow(home, "up")
    assert up.returncode == 0, up.stderr
    state = _state(home)
    assert state.broker_kind == "kafka" and len(state.kafka_nodes) == 1

    status: dict[str, Any] = json.loads(fseflow(home, "status", "--json").stdout)
    assert status["broker"]["kind"] == "kafka" and status["broker"]["keeps_data"] is True
    assert status["broker"]["nodes"][0]["alive"] is True
    assert any(
        line.startswith("broker") and "(kafka, pid" in line
        for line in fseflow(home, "status").stdout.splitlines()
    )
    env = fseflow(home, "env")
    assert "export KAFKA_SASL_USERNAME=admin" in env.stdout and "export KAFKA_IDEMPOTENCE=true" in env.stdout
    assert "admin's credentials" in env.stderr
    credentials = home / "kafka" / "credentials.json"
    assert credentials.stat().st_mode & 0o777 == 0o600

    replay = fseflow(home, "replay", str(EVERY_REASON), "--out", str(tmp_path / "r.json"), "--quiet")
    assert replay.returncode == 0, replay.stderr
    received = _records(state, "cti.fse-received")
    assert received > 0

    down = fseflow(home, "down")
    assert down.returncode == 0, down.stderr
    assert "kafka" in down.stderr.splitlines()[0] and "the data is kept" in down.stderr
    assert (home / "kafka" / "node-1" / "data").is_dir()

    again = fseflow(home, "up")
    assert again.returncode == 0, again.stderr
    assert "started again: kafka, postgresql" in again.stderr
    restarted = _state(home)
    assert restarted.kafka_nodes[0].pid != state.kafka_nodes[0].pid
    assert restarted.kafka_nodes[0].port == state.kafka_nodes[0].port
    assert _records(restarted, "cti.fse-received") == received
    # The same scenario again, on the data of the first run: a new world, the same results.
    second = fseflow(home, "replay", str(EVERY_REASON), "--out", str(tmp_path / "r2.json"), "--quiet")
    assert second.returncode == 0, second.stderr
    first, then = (json.loads((tmp_path / n).read_text()) for n in ("r.json", "r2.json"))
    assert {k: v for k, v in first.items() if k != "world"} == {k: v for k, v in then.items() if k != "world"}


def test_a_killed_node_is_started_again_by_up(home: Path) -> None:
    state = _state(home)
    node = state.kafka_nodes[0]
    assert node.pid is not None
    os.kill(node.pid, signal.SIGKILL)
    Stack(home).stop_kafka_node(state, node.node_id, signal.SIGKILL, wait=10)  # reaped
    status: dict[str, Any] = json.loads(fseflow(home, "status", "--json").stdout)
    assert status["broker"]["alive"] is False
    up = fseflow(home, "up")
    assert up.returncode == 0, up.stderr
    assert "started again: kafka" in up.stderr
    assert _state(home).kafka_nodes[0].pid != node.pid


def test_a_node_that_cannot_start_is_named_with_the_reason_from_its_log(home: Path) -> None:
    state = _state(home)
    node = state.kafka_nodes[0]
    Stack(home).stop_kafka_node(state, node.node_id)
    config = kafka_config_file(home, node.node_id)
    good = config.read_text()
    config.write_text(good + "num.partitions=many\n")
    try:
        up = fseflow(home, "up")
        assert up.returncode != 0
        assert f"Kafka node {node.node_id} is not running" in up.stderr, up.stderr
        assert "num.partitions" in up.stderr and "many" in up.stderr, up.stderr
    finally:
        config.write_text(good)
    again = fseflow(home, "up")
    assert again.returncode == 0, again.stderr
