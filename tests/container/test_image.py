"""The fseflow image (deploy/image/Containerfile, `make image`): what it is, and every service of
the embedded stack run from it with podman (`fseflow up --image`) against the host's broker and
PostgreSQL — the every-reason scenario gives the results the process stack gives, and SIGTERM
stops each container gracefully. Run by `make image-test` (which builds the image first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fseflow_tools import stack_containers
from fseflow_tools.stack_state import SERVICE_MODULES
from tests.conftest import comparable

IMAGE = os.environ.get("FSEFLOW_IMAGE", "")
EVERY_REASON = Path(__file__).parents[1] / "e2e" / "scenarios" / "every-reason.json"
USER = "10001:10001"

pytestmark = pytest.mark.container


@pytest.fixture(scope="module", autouse=True)
def _image() -> None:
    if not IMAGE:
        pytest.skip("make image-test builds the image and runs these (FSEFLOW_IMAGE names it)")
    missing = stack_containers.image_missing(IMAGE)
    if missing and os.environ.get("FSEFLOW_IMAGE_REQUIRED"):
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)


def _in_image(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*stack_containers.PODMAN, "run", "--rm", *stack_containers.ULIMITS, IMAGE, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fseflow(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update(FSEFLOW_HOME=str(home), FSEFLOW_ANY_FREE_PORT="1")
    return subprocess.run(
        [sys.executable, "-m", "fseflow_tools.cli.main", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _replay_on_a_fresh_stack(home: Path, *up_options: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Up, replay every-reason, read `status --json`, down: (results, status)."""
    up = _fseflow(home, "up", *up_options)
    try:
        assert up.returncode == 0, up.stderr
        out = home / "results.json"
        replay = _fseflow(home, "replay", str(EVERY_REASON), "--out", str(out), "--quiet")
        assert replay.returncode == 0, replay.stderr
        status = json.loads(_fseflow(home, "status", "--json").stdout)
        return json.loads(out.read_text()), status
    finally:
        down = _fseflow(home, "down", "--wipe")
        assert down.returncode == 0, down.stderr


def test_the_image_runs_as_a_non_root_user_and_stops_on_sigterm() -> None:
    inspected = subprocess.run(
        ["podman", "image", "inspect", IMAGE, "--format", "{{.Config.User}} {{.Config.StopSignal}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert inspected.stdout.split() == [USER, "SIGTERM"]
    assert _in_image("id", "-u").stdout.strip() == "10001"


def test_the_runtime_layer_has_no_build_tools() -> None:
    for tool in ("gcc", "cc", "make", "uv", "pip", "pip3"):
        found = _in_image("sh", "-c", f"command -v {tool}")
        assert found.returncode != 0, f"{tool} is in the image: {found.stdout.strip()}"


def test_the_image_runs_every_service_module_and_the_tools() -> None:
    modules = ", ".join(sorted(set(SERVICE_MODULES.values())))
    imported = _in_image("python", "-c", f"import {modules}, fseflow_tools; print('ok')")
    assert imported.stdout.strip() == "ok", imported.stderr
    tools = _in_image("fseflow", "--help")
    assert tools.returncode == 0, tools.stderr
    for command in ("replay", "clock", "db"):
        assert command in tools.stdout
    # A service with no settings says which ones are missing, by name.
    bare = _in_image("python", "-m", "ingest")
    assert bare.returncode == 2
    assert "configuration error: KAFKA_BOOTSTRAP_SERVERS" in bare.stderr


def test_every_service_in_its_container_gives_the_process_stacks_results(tmp_path: Path) -> None:
    as_processes, _ = _replay_on_a_fresh_stack(tmp_path / "processes")
    home = tmp_path / "containers"
    as_containers, status = _replay_on_a_fresh_stack(home, "--image", IMAGE)

    assert status["service_image"] == IMAGE
    containers = {name: process["container"] for name, process in status["processes"].items()}
    assert set(containers) >= set(SERVICE_MODULES), containers
    assert as_containers["fse"], "the replay gave no result"
    assert comparable(as_containers) == comparable(as_processes)

    # `down` sent SIGTERM: each service finished its work and said so, and no container is left.
    for name in containers:
        log = (home / "logs" / f"{name}.log").read_text()
        assert "stopped (status 0)" in log, f"{name} did not stop gracefully:\n{log[-2000:]}"
    left = subprocess.run(
        ["podman", "ps", "--all", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    )
    assert not set(left.stdout.split()) & set(containers.values()), left.stdout
