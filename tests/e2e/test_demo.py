"""`fseflow demo` end to end, small, against the running stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningStack

pytestmark = pytest.mark.e2e


def test_demo_prints_its_summary(running: RunningStack, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env.update(FSEFLOW_HOME=running.state.home, COLUMNS="120")
    done = subprocess.run(
        [
            sys.executable, "-m", "fseflow_tools.cli.main", "demo",
            "--days", "3", "--professionals", "12", "--patients", "300", "--out-dir", str(tmp_path),
        ],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Classifications" in done.stdout and "FSE/s" in done.stdout
    assert "Per national computer centre" in done.stdout
    assert (tmp_path / "results.json").exists() and (tmp_path / "scenario.json").exists()
