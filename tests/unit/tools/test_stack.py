"""The embedded stack's decisions that need no process: what `up` starts again or refuses, what
`down` deletes, names of `restart`, ports."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fseflow_tools import stack_ports
from fseflow_tools.stack import Stack
from fseflow_tools.stack_state import (
    BROKER_EXTERNAL,
    BROKER_TANSU,
    DATABASE,
    Liveness,
    ServiceProcess,
    StackError,
    StackState,
    UnknownProcess,
    check_agrees,
    recovery,
)


def _state(home: Path, *, embedded_kafka: bool = True) -> StackState:
    (home / "scor" / "support-a").mkdir(parents=True)
    (home / "scor" / "support-b").mkdir(parents=True)
    (home / "postgres").mkdir()
    (home / "postgres" / "PG_VERSION").write_text("18\n")
    return StackState(
        home=str(home),
        kafka_bootstrap_servers="127.0.0.1:19092" if embedded_kafka else "kafka:9092",
        database_url="postgresql://postgres@127.0.0.1:15432/fseflow",
        ingest_address="127.0.0.1:50051",
        embedded_kafka=embedded_kafka,
        embedded_postgres=True,
        broker_pid=2**22 + 11 if embedded_kafka else None,  # above pid_max's default: never alive
        postgres_data=str(home / "postgres"),
        services={
            name: ServiceProcess(2**22 + i, 9101 + i, str(home / "logs" / f"{name}.log"), name.split("-2")[0])
            for i, name in enumerate(("ingest", "national-check", "national-check-2", "pointage"))
        },
        scor_address="127.0.0.1:50052",
        scor_supports=f"{home}/scor/support-a,{home}/scor/support-b",
        pointage_url="http://127.0.0.1:8103",
    )


def _live(
    state: StackState, *, broker: bool = True, database: bool = True, dead: tuple[str, ...] = ()
) -> Liveness:
    return Liveness(broker, database, {name: name not in dead for name in state.services})


def test_up_starts_again_only_what_is_down(tmp_path: Path) -> None:
    state = _state(tmp_path)
    assert recovery(state, _live(state)) == []
    assert recovery(state, _live(state, dead=("national-check-2",))) == ["national-check-2"]
    # The database first: the services need it.
    assert recovery(state, _live(state, database=False, dead=("pointage",))) == [DATABASE, "pointage"]


def test_up_refuses_when_the_memory_broker_died_and_names_what_reset_deletes(tmp_path: Path) -> None:
    state = _state(tmp_path)
    with pytest.raises(StackError) as refused:
        recovery(state, _live(state, broker=False, dead=("ingest",)))
    message = str(refused.value)
    assert "Tansu" in message and "topics are gone" in message
    assert str(tmp_path / "postgres") in message and str(tmp_path / "scor") in message
    assert "`fseflow reset`" in message


def test_a_state_file_from_before_the_broker_kind_reads_as_tansu(tmp_path: Path) -> None:
    old = {
        "home": str(tmp_path),
        "kafka_bootstrap_servers": "127.0.0.1:19092",
        "database_url": "postgresql://postgres@127.0.0.1:15432/fseflow",
        "ingest_address": "127.0.0.1:50051",
        "embedded_kafka": True,
        "embedded_postgres": True,
        "services": {"ingest": {"pid": 1, "metrics_port": 9101, "log": "x", "service": "ingest"}},
    }
    (tmp_path / "stack.json").write_text(json.dumps(old))
    state = Stack(tmp_path).load()
    assert state is not None
    assert state.broker_kind == BROKER_TANSU and not state.broker_keeps_data
    assert state.services["ingest"].extra_env == {}


def test_down_on_tansu_deletes_the_data_and_says_why(tmp_path: Path) -> None:
    embedded = Stack(tmp_path)
    state = _state(tmp_path)
    embedded._save(state)
    outcome = embedded.down()
    assert outcome.forced_by.startswith("Tansu keeps its topics in memory only")
    assert any(str(tmp_path / "postgres") in d for d in outcome.deleted)
    assert any(str(tmp_path / "scor") in d for d in outcome.deleted)
    assert not (tmp_path / "postgres").exists() and not (tmp_path / "scor").exists()
    assert embedded.load() is None


def test_down_on_a_broker_that_keeps_data_keeps_it_unless_wiped(tmp_path: Path) -> None:
    embedded = Stack(tmp_path)
    state = _state(tmp_path, embedded_kafka=False)
    assert state.broker_kind == BROKER_EXTERNAL and state.broker_keeps_data
    embedded._save(state)
    kept = embedded.down()
    assert kept.deleted == [] and kept.forced_by == ""
    assert (tmp_path / "postgres" / "PG_VERSION").exists() and embedded.load() is not None
    wiped = embedded.down(wipe=True)
    assert any(str(tmp_path / "postgres") in d for d in wiped.deleted)
    assert not (tmp_path / "postgres").exists() and embedded.load() is None


def test_restart_names_a_service_or_one_instance(tmp_path: Path) -> None:
    embedded = Stack(tmp_path)
    state = _state(tmp_path)
    assert embedded.instances_of(state, "national-check") == ["national-check", "national-check-2"]
    assert embedded.instances_of(state, "national-check-2") == ["national-check-2"]
    with pytest.raises(UnknownProcess) as unknown:
        embedded.instances_of(state, "national-chek")
    assert "'national-chek'" in str(unknown.value)
    assert "national-check-2" in str(unknown.value) and "ingest" in str(unknown.value)


def test_options_of_up_must_agree_with_a_recorded_stack(tmp_path: Path) -> None:
    state = _state(tmp_path)

    def check(instances: list[str] | None = None, ports: dict[str, int] | None = None) -> None:
        check_agrees(
            state,
            kafka_bootstrap_servers=None,
            database_url=None,
            instances=instances,
            kafka_client=None,
            ports=ports,
        )

    check()
    check(instances=list(reversed(state.services)))  # the same processes, in another order
    with pytest.raises(StackError, match="national-check-3"):
        check(instances=[*state.services, "national-check-3"])
    with pytest.raises(StackError, match="port of kafka: recorded 19092, asked 29092"):
        check(ports={"kafka": 29092})


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        yield server
    finally:
        server.close()


def test_a_taken_documented_port_is_named_with_its_holder_and_how_to_move_it(
    listening: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = listening.getsockname()[1]
    monkeypatch.setitem(stack_ports.DEFAULT_PORTS, "kafka", port)
    with pytest.raises(stack_ports.PortTaken) as taken:
        stack_ports.PortPlan("127.0.0.1", any_free=False).claim("kafka")
    message = str(taken.value)
    assert f"port {port} (the broker: Tansu, or Apache Kafka node 1)" in message
    assert f"pid {os.getpid()}" in message
    assert "--port kafka=PORT" in message and "FSEFLOW_PORTS=kafka=PORT" in message
    assert "`fseflow up --any-free-port`" in message  # the way out when many documented ports are taken


def test_documented_ports_overrides_and_the_free_port_mode(listening: socket.socket) -> None:
    plan = stack_ports.PortPlan("127.0.0.1", any_free=False, overrides={"national-check": 9200})
    assert stack_ports.default_port("national-check-2", "national-check", {}) == 9112
    assert stack_ports.default_port("national-check-2", "national-check", plan.overrides) == 9210
    assert stack_ports.default_port("ingest-grpc", "", {}) == 50051
    # A temporary stack never takes a documented port, nor the same port twice.
    free = stack_ports.PortPlan("127.0.0.1", any_free=True)
    chosen = [free.claim(name, name) for name in ("kafka", "postgres", "ingest", "relances")]
    assert len(set(chosen)) == 4 and not set(chosen) & set(stack_ports.DEFAULT_PORTS.values())
    assert listening.getsockname()[1] not in chosen


def test_port_overrides_are_checked() -> None:
    known = set(stack_ports.DEFAULT_PORTS)
    assert stack_ports.parse_overrides(["kafka=29092"], known) == {"kafka": 29092}
    with pytest.raises(ValueError, match="unknown name 'kafak'"):
        stack_ports.parse_overrides(["kafak=29092"], known)
    with pytest.raises(ValueError, match=r"PORT in 1\.\.65535"):
        stack_ports.parse_overrides(["kafka=70000"], known)


def test_listening_addresses_read_from_proc(listening: socket.socket) -> None:
    assert stack_ports.listening_addresses(listening.getsockname()[1]) == ["127.0.0.1"]
