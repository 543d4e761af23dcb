"""Shared fixtures. Integration and end-to-end tests run against one real stack per session:
the embedded one (Tansu + PostgreSQL + every service as its own process) started in a temporary
FSEFLOW_HOME, or, when KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL are set, the services only,
against that broker and database."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fseflow.kafka.factory import KafkaFactory
from fseflow_tools.endpoints import Endpoints, from_stack
from fseflow_tools.stack import Stack, StackState


@dataclass(frozen=True)
class Kill:
    """A SIGKILL that landed mid-work: the process had consumed records, and was still consuming."""

    name: str
    pid: int
    consumed_before: float


@dataclass
class RunningStack:
    stack: Stack
    state: StackState

    @property
    def endpoints(self) -> Endpoints:
        return from_stack(self.state)

    def kafka(self, client_id: str = "fseflow-tests") -> KafkaFactory:
        return KafkaFactory(self.endpoints.kafka, client_id)

    def client_config(self) -> dict[str, Any]:
        """librdkafka's connection settings for a raw client of the stack (the admin's on Kafka)."""
        return self.kafka().confluent_config()

    def instances(self, service: str) -> list[str]:
        return [name for name, p in self.state.services.items() if (p.service or name) == service]

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int | None:
        """Stop one process; returns its exit status when it was our child."""
        process = self.state.services[name]
        self.stack.stop_service(self.state, name, sig)
        return process.pid

    def start(self, name: str) -> None:
        self.stack.start_service(self.state, name)
        self.stack.wait_ready(self.state, [name], 90)

    def restart(self, names: list[str], extra_env: dict[str, str] | None = None) -> None:
        """Restart processes one at a time, each ready before the next stops: Tansu wedges a
        consumer group whose leader leaves while it rebalances (docs/decisions.md D33, D49)."""
        for name in names:
            self.stack.stop_service(self.state, name)
            self.stack.start_service(self.state, name, extra_env)
            self.stack.wait_ready(self.state, [name], 90)

    def metrics(self, name: str) -> str:
        port = self.state.services[name].metrics_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())

    def consumed(self, name: str) -> float:
        """Records this process (its current pid) has consumed, from its /metrics."""
        prefix = "fseflow_messages_consumed_total"
        lines = self.metrics(name).splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith(prefix))

    def kill_when_busy(self, name: str, within: float = 60.0) -> Kill:
        """SIGKILL a process the moment its consumed count moves, so the kill lands mid-work
        rather than after an arbitrary pause; fails if the process consumes nothing in `within` s."""
        idle = self.consumed(name)
        deadline = time.monotonic() + within
        while (busy := self.consumed(name)) == idle:
            assert time.monotonic() < deadline, f"{name} idle {within:.0f} s: nothing to interrupt"
            time.sleep(0.01)  # poll interval of a bounded wait
        pid = self.state.services[name].pid
        self.stack.stop_service(self.state, name, signal.SIGKILL, wait=5)
        return Kill(name, pid, busy)

    def log(self, name: str) -> str:
        return Path(self.state.services[name].log).read_text(errors="replace")


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    home = tmp_path_factory.mktemp("fseflow-home")
    stack = Stack(home, any_free_port=True)
    state = stack.ensure_up(
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        database_url=os.environ.get("DATABASE_URL") or None,
        timeout=180,
    ).state
    live = RunningStack(stack, state)
    try:
        yield live
    finally:
        # Tests that kill and restart services give them new pids, recorded in the state file or
        # in `live.state`: stopping only the pids of the start left seven services running after
        # a CI session. Stop what either knows, then the stack as recorded now.
        current = stack.load() or live.state
        for name, process in live.state.services.items():
            if name in current.services and current.services[name].pid != process.pid:
                stack.stop_service(live.state, name, signal.SIGKILL, wait=5)
        stack.down(current, wipe=True)  # Apache Kafka keeps its data otherwise


def comparable(results: dict[str, object]) -> dict[str, object]:
    """Results without the world id (each replay runs in a fresh namespace)."""
    return {k: v for k, v in results.items() if k != "world"}


def run(coroutine: object) -> object:
    """Run a coroutine from a synchronous test."""
    return asyncio.run(coroutine)  # type: ignore[arg-type]
