"""The Apache Kafka broker kind's decisions that need no JVM: configuration of one and three
nodes, credentials, the broker choice, what the state tells clients and services."""

from __future__ import annotations

from pathlib import Path

import pytest

from fseflow_tools import kafka_broker
from fseflow_tools.kafka_broker import KafkaNode
from fseflow_tools.stack import broker_choice
from fseflow_tools.stack_ports import default_port
from fseflow_tools.stack_state import StackError, StackState, kafka_port_names


def _properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_three_nodes_form_one_static_quorum_with_replication_3_and_min_isr_2(tmp_path: Path) -> None:
    nodes = [KafkaNode(n, 19092 + 10 * (n - 1), 19093 + 10 * (n - 1)) for n in (1, 2, 3)]
    config = _properties(kafka_broker.server_properties(tmp_path, nodes[1], nodes, "secret"))
    assert config["node.id"] == "2" and config["process.roles"] == "broker,controller"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113"
    assert config["listeners"] == "CLIENT://127.0.0.1:19102,CONTROLLER://127.0.0.1:19103"
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == ("3", "2")
    assert config["offsets.topic.replication.factor"] == "3"
    assert config["allow.everyone.if.no.acl.found"] == "false" and config["super.users"] == "User:admin"
    assert config["authorizer.class.name"].endswith("StandardAuthorizer")
    assert config["log.dirs"] == str(tmp_path / "kafka" / "node-2" / "data")
    assert 'password="secret"' in config["listener.name.client.scram-sha-512.sasl.jaas.config"]


def test_one_node_needs_no_second_replica(tmp_path: Path) -> None:
    node = KafkaNode(1, 19092, 19093)
    config = _properties(kafka_broker.server_properties(tmp_path, node, [node], "pw"))
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == ("1", "1")
    assert config["transaction.state.log.min.isr"] == "1"


def test_cluster_ids_look_like_kafkas_and_never_start_with_a_dash() -> None:
    ids = {kafka_broker.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_credentials_are_made_once_and_kept_private(tmp_path: Path) -> None:
    first = kafka_broker.load_credentials(tmp_path)
    assert {"admin", "ingest", "national-check", "pointage", "scor-store", "relances"} == set(first)
    assert kafka_broker.credentials_file(tmp_path).stat().st_mode & 0o777 == 0o600
    assert kafka_broker.load_credentials(tmp_path) == first


def test_ports_of_node_n_are_ten_apart() -> None:
    assert kafka_port_names(1) == ("kafka", "kafka-controller")
    assert kafka_port_names(3) == ("kafka-3", "kafka-controller-3")
    assert default_port("kafka-2", "kafka", {}) == 19102
    assert default_port("kafka-controller-3", "kafka-controller", {}) == 19113


def test_the_broker_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FSEFLOW_BROKER", raising=False)
    monkeypatch.delenv("FSEFLOW_BROKERS", raising=False)
    assert broker_choice(None, None) == ("tansu", 1)
    monkeypatch.setenv("FSEFLOW_BROKER", "kafka")
    monkeypatch.setenv("FSEFLOW_BROKERS", "3")
    assert broker_choice(None, None) == ("kafka", 3)
    assert broker_choice("kafka", 1) == ("kafka", 1)
    with pytest.raises(StackError, match="Tansu runs one broker"):
        broker_choice("tansu", 3)
    with pytest.raises(StackError, match="expected 1 or 3"):
        broker_choice("kafka", 2)
    with pytest.raises(StackError, match="expected one of tansu, kafka"):
        broker_choice("redpanda", None)


def test_clients_get_the_admin_services_their_own(tmp_path: Path) -> None:
    state = StackState(
        home=str(tmp_path),
        kafka_bootstrap_servers="127.0.0.1:19092,127.0.0.1:19102,127.0.0.1:19112",
        database_url="postgresql://postgres@127.0.0.1:15432/fseflow",
        ingest_address="127.0.0.1:50051",
        embedded_kafka=True,
        embedded_postgres=True,
        broker_kind="kafka",
        kafka_nodes=[KafkaNode(n, 19082 + 10 * n, 19083 + 10 * n) for n in (1, 2, 3)],
        kafka_replication_factor=3,
    )
    passwords = kafka_broker.load_credentials(tmp_path)
    env = state.env()
    assert env["KAFKA_SASL_USERNAME"] == "admin" and env["KAFKA_SASL_PASSWORD"] == passwords["admin"]
    assert (env["KAFKA_IDEMPOTENCE"], env["KAFKA_REPLICATION_FACTOR"]) == ("true", "3")
    assert (
        env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT" and env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    )
    assert state.kafka_credentials("relances")["KAFKA_SASL_PASSWORD"] == passwords["relances"]
    assert state.broker_keeps_data
    assert state.ports()["kafka-controller-3"] == 19113
    assert any("Kafka's log dirs" in d for d in state.data())
