"""Operating the embedded stack one process at a time, through the `fseflow` command line, on a
stack of this module's own (it kills parts of it): kill -9 then `up`, `restart`, `status --json`,
`env`, loopback-only ports, clear errors, and a replay whose broker dies mid-run. On Tansu, even
in the Apache Kafka run (what a memory broker's death does is the point); Kafka's own: test_kafka_stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from fseflow_tools.stack import Stack, StackState, rebalancing
from fseflow_tools.stack_ports import listening_addresses
from tests.conftest import comparable

pytestmark = pytest.mark.integration

EVERY_REASON = Path(__file__).parents[2] / "e2e" / "scenarios" / "every-reason.json"
LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}
# What points a client elsewhere than at the stack of FSEFLOW_HOME.
ELSEWHERE = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "FSEFLOW_INGEST_ADDR",
    "POINTAGE_URL",
    "FSEFLOW_BROKER",
    "FSEFLOW_BROKERS",
)


@dataclass
class Own:
    home: Path
    stack: Stack
    worlds: list[str]

    @property
    def state(self) -> StackState:
        state = self.stack.load()
        assert state is not None
        return state

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ELSEWHERE}
        return {**env, "FSEFLOW_HOME": str(self.home), "FSEFLOW_ANY_FREE_PORT": "1"}

    def fseflow(self, *arguments: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fseflow_tools.cli.main", *arguments],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def replay(self, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
        return self.fseflow("replay", str(EVERY_REASON), "--out", str(out), "--quiet", *options)

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.state.services.items()}


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    home = tmp_path_factory.mktemp("stack-operations")
    embedded = Stack(home, any_free_port=True)
    embedded.ensure_up(timeout=180, broker="tansu")
    try:
        yield Own(home, embedded, [])
    finally:
        if embedded.load() is not None:
            embedded.down(wipe=True)


def test_every_port_listens_on_loopback_only(own: Own) -> None:
    ports = own.state.ports()
    assert {"kafka", "postgres", "ingest-grpc", "scor-grpc", "pointage-console", "national-check-2"} <= set(
        ports
    )
    for name, port in ports.items():
        addresses = listening_addresses(port)
        assert addresses, f"nothing listens on {name}'s port {port}"
        assert set(addresses) <= LOOPBACK, f"{name} (port {port}) listens on {addresses}"


def test_status_json_and_human_status_show_every_address_in_full(own: Own) -> None:
    state = own.state
    done = own.fseflow("status", "--json")
    assert done.returncode == 0, done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    assert status["broker"] | {"pid": None} == {
        "kind": "tansu",
        "keeps_data": False,
        "bootstrap": state.kafka_bootstrap_servers,
        "pid": None,
        "alive": True,
        "nodes": [],
        "replication_factor": 1,
    }
    assert status["database"]["url"] == state.database_url and status["database"]["alive"]
    assert status["scor_address"] == state.scor_address
    assert status["console_url"] == f"{state.pointage_url}/console"
    for name, process in status["processes"].items():
        assert process["pid"] == state.services[name].pid and process["alive"] is True
        assert process["ready"] is True
        assert process["ports"]["metrics"] == state.services[name].metrics_port
    assert status["processes"]["ingest"]["ports"]["grpc"] == int(state.ingest_address.rsplit(":", 1)[1])
    assert status["processes"]["pointage"]["ports"]["console"] == int(state.pointage_url.rsplit(":", 1)[1])

    human = own.fseflow("status").stdout.splitlines()  # not a terminal: 80 columns
    assert any(state.database_url in line for line in human), human
    assert any(line.endswith(f"gRPC (mTLS) {state.scor_address}") for line in human), human


def test_env_evaluates_in_bash_when_not_a_terminal(own: Own) -> None:
    state = own.state
    printed = subprocess.run(
        [
            "bash",
            "-c",
            f'eval "$({sys.executable} -m fseflow_tools.cli.main env)" && printf "%s\\n" "$DATABASE_URL" '
            '"$SCOR_SUPPORT_DIRS" "$KAFKA_IDEMPOTENCE"',
        ],
        env={**own.env(), "COLUMNS": "40"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert printed == [state.database_url, state.scor_supports, "false"]


def test_up_after_a_kill_9_starts_only_that_instance_and_keeps_the_data(own: Own, tmp_path: Path) -> None:
    first = own.replay(tmp_path / "first.json")
    assert first.returncode == 0, first.stderr
    results = json.loads((tmp_path / "first.json").read_text())
    own.worlds.append(results["world"])
    before = own.pids()
    ports = own.state.ports()

    own.stack.stop_service(own.state, "national-check-2", signal.SIGKILL, wait=5)
    shown = own.fseflow("status", "--json")
    assert shown.returncode == 3  # as `systemctl status`: something recorded is not running
    assert "not running: national-check-2 (`fseflow up` starts them again" in shown.stderr
    status = json.loads(shown.stdout)
    assert status["processes"]["national-check-2"]["alive"] is False
    assert status["processes"]["national-check-2"]["ready"] == "not running"

    started = time.perf_counter()
    up = own.fseflow("up")
    took = time.perf_counter() - started
    assert up.returncode == 0, up.stderr
    assert "started again: national-check-2" in up.stderr
    after = own.pids()
    assert after["national-check-2"] != before["national-check-2"]
    assert {n: p for n, p in after.items() if n != "national-check-2"} == {
        n: p for n, p in before.items() if n != "national-check-2"
    }
    assert own.state.ports() == ports
    print(f"up after kill -9 of one instance: {took:.1f}s")  # a figure for the docs (pytest -s)

    # The database still holds the first replay's world.
    account = own.fseflow("account", "ps-1", "--world", results["world"], "--json")
    assert account.returncode == 0, account.stderr
    assert json.loads(account.stdout)["payments"], account.stdout
    assert asyncio.run(_worlds(own.state.database_url)) >= {results["world"]}

    again = own.fseflow("up")
    assert again.returncode == 0 and "everything is already running" in again.stderr
    assert own.pids() == after

    second = own.replay(tmp_path / "second.json")
    assert second.returncode == 0, second.stderr
    repeated = json.loads((tmp_path / "second.json").read_text())
    own.worlds.append(repeated["world"])
    assert comparable(repeated) == comparable(results)


def test_restart_a_service_restarts_each_instance_on_its_ports(own: Own) -> None:
    before, ports = own.pids(), own.state.ports()
    done = own.fseflow("restart", "pointage")
    assert done.returncode == 0, done.stderr
    after = own.pids()
    assert after["pointage"] != before["pointage"] and after["pointage-2"] != before["pointage-2"]
    assert {n: p for n, p in after.items() if not n.startswith("pointage")} == {
        n: p for n, p in before.items() if not n.startswith("pointage")
    }
    assert own.state.ports() == ports
    status = json.loads(own.fseflow("status", "--json").stdout)
    assert all(p["ready"] is True for p in status["processes"].values())

    unknown = own.fseflow("restart", "pointge")
    assert unknown.returncode == 2
    assert "unknown service or instance 'pointge'" in unknown.stderr and "pointage-2" in unknown.stderr


def test_restart_instance_restarts_only_the_process_of_that_name(own: Own) -> None:
    """What the chaos suite does after a kill -9 of national-check: national-check-2, still a
    member of the groups, is left alone (stopping it mid-rebalance can wedge them on Tansu: D49)."""
    before = own.pids()
    done = own.fseflow("restart", "national-check", "--instance")
    assert done.returncode == 0, done.stderr
    after = own.pids()
    assert after["national-check"] != before["national-check"]
    assert {n: p for n, p in after.items() if n != "national-check"} == {
        n: p for n, p in before.items() if n != "national-check"
    }
    # Both members end up in a settled group (wait_settled raises after 60 s otherwise).
    own.stack.wait_settled(own.state, "national-check", 60)
    ports = [p.metrics_port for n, p in own.state.services.items() if n.startswith("national-check")]
    assert len(ports) == 2 and not any(rebalancing(port) for port in ports)


def test_a_world_never_seen_is_refused_by_name(own: Own) -> None:
    for command in (
        ("clock", "close", "--world", "never-seen", "--day", "2026-03-02"),
        ("account", "ps-1", "--world", "never-seen"),
        ("subscribe", "01-331", "--world", "never-seen", "--idle-exit", "1"),
    ):
        done = own.fseflow(*command)
        assert done.returncode == 2, (command, done.stderr)
        assert "--world 'never-seen': this world has never been seen" in done.stderr
        assert own.worlds[0] in done.stderr  # the latest worlds are named
    known = own.fseflow("clock", "close", "--world", own.worlds[0], "--day", "2026-03-11")
    assert known.returncode == 0, known.stderr


def test_the_readme_technician_example_works_without_a_terminal(own: Own) -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "fseflow pointage technician add" in line)
    fseflow = f"{sys.executable} -m fseflow_tools.cli.main"
    command = line.split("  #", 1)[0].replace(".venv/bin/fseflow", fseflow)
    done = subprocess.run(
        ["bash", "-c", command],
        env=own.env(),
        stdin=subprocess.DEVNULL,  # no terminal to type a password in
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "can log in to the console" in done.stdout


def test_a_replay_that_times_out_ends_with_one_line(own: Own, tmp_path: Path) -> None:
    done = own.replay(tmp_path / "out.json", "--day-timeout", "0.01")
    assert done.returncode == 4
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "replay failed: timed out: day 2026-03-02 did not go through every stage within 0.01s"
    )


def test_a_replay_whose_broker_dies_ends_clearly_and_up_refuses_to_wipe(own: Own, tmp_path: Path) -> None:
    state = own.state
    assert state.broker_pid is not None and state.postgres_data is not None
    seen = asyncio.run(_worlds(state.database_url, "ingest.lots"))
    replay = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fseflow_tools.cli.main",
            "replay",
            str(EVERY_REASON),
            "--out",
            str(tmp_path / "o.json"),
        ],
        env=own.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        asyncio.run(_until_a_new_world_has_lots(state.database_url, sorted(seen), within_s=120))
        os.kill(state.broker_pid, signal.SIGKILL)
        killed = time.perf_counter()
        _, stderr = replay.communicate(timeout=90)
        ended = time.perf_counter() - killed
    finally:
        if replay.poll() is None:
            replay.kill()
    assert replay.returncode == 4, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        f"replay failed: the stack went away mid-run: Tansu (pid {state.broker_pid}) stopped"
    )
    print(f"replay ended {ended:.1f}s after its broker was killed")  # a figure for the docs (pytest -s)

    refused = own.fseflow("up")
    assert refused.returncode == 1
    assert "topics are gone" in refused.stderr and "`fseflow reset`" in refused.stderr
    assert state.postgres_data in refused.stderr and str(own.home / "scor") in refused.stderr
    assert (
        Path(state.postgres_data, "PG_VERSION").exists() and (own.home / "scor").exists()
    )  # nothing deleted

    reset = own.fseflow("reset", "--service", "relances")
    assert reset.returncode == 0, reset.stderr
    assert f"the database ({state.postgres_data})" in reset.stderr and "deleted:" in reset.stderr
    fresh = own.state
    assert list(fresh.services) == ["relances"] and fresh.broker_pid != state.broker_pid
    gone = own.fseflow("clock", "close", "--world", own.worlds[0], "--day", "2026-03-11")
    assert gone.returncode == 2 and "never been seen" in gone.stderr

    # A PostgreSQL killed under a live broker starts again on its data and port.
    assert fresh.postgres_data is not None
    asyncio.run(
        _execute(
            fresh.database_url,
            "CREATE TABLE public.marker (world text); INSERT INTO marker VALUES ('marker')",
        )
    )
    os.kill(int(Path(fresh.postgres_data, "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
    up = own.fseflow("up")
    assert up.returncode == 0, up.stderr
    assert "started again: postgresql" in up.stderr
    assert asyncio.run(_worlds(fresh.database_url, "public.marker")) == {"marker"}  # same data

    down = own.fseflow("down")
    assert down.returncode == 0
    assert "stopped: relances, postgresql, tansu" in down.stderr
    assert f"the database ({fresh.postgres_data})" in down.stderr and "Tansu keeps its topics" in down.stderr
    assert own.stack.load() is None and not Path(fresh.postgres_data or "").exists()


async def _worlds(database_url: str, table: str = "world.worlds") -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {row["world"] for row in await conn.fetch(f"SELECT DISTINCT world FROM {table}")}
    finally:
        await conn.close()


async def _execute(database_url: str, sql: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _until_a_new_world_has_lots(database_url: str, known: list[str], within_s: float) -> None:
    """Until the replay just started has had lots taken in (it is mid-run)."""
    deadline = time.monotonic() + within_s
    conn = await asyncpg.connect(database_url)
    try:
        while time.monotonic() < deadline:
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM ingest.lots WHERE NOT (world = ANY($1::text[])))", known
            ):
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    raise AssertionError(f"no new world received lots within {within_s:.0f}s")
