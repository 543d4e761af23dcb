"""The Makefile: `make help` lists every documented target, and every target works on a fresh
clone (it makes the venv first instead of failing with exit 127)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTED = re.findall(r"^([A-Za-z0-9_.-]+):[^\n]*## ", (ROOT / "Makefile").read_text(), re.M)
# Targets that run nothing from the venv (Debian packages, Maven, Go, buildah).
NO_VENV = {"help", "browser", "kafka", "kcat", "k8s-tools", "container-tools", "base-image", "image"}

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(directory: Path, *arguments: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(directory), *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_help_lists_every_documented_target() -> None:
    assert {"test-e2e", "test-unit", "bench-scor", "demo-relances"} <= set(DOCUMENTED)
    listed = re.findall(r"^\s+(?:\x1b\[\d+m)?([A-Za-z0-9_.-]+)", _make(ROOT, "help"), re.M)
    assert listed == DOCUMENTED


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Makefile and the lock inputs, without .venv (what a fresh clone has before setup)."""
    clone = tmp_path_factory.mktemp("clone")
    shutil.copy(ROOT / "Makefile", clone / "Makefile")
    (clone / "deploy/kafka").mkdir(parents=True)
    for name in ("uv.lock", "pyproject.toml", "deploy/kafka/pom.xml"):
        shutil.copy(ROOT / name, clone / name)
    return clone


@pytest.mark.parametrize("target", [t for t in DOCUMENTED if t not in NO_VENV])
def test_every_target_makes_the_venv_before_using_it(fresh_clone: Path, target: str) -> None:
    commands = _make(fresh_clone, "-n", target, "UV=uv").splitlines()
    sync = next((i for i, c in enumerate(commands) if "uv sync --all-packages --locked" in c), None)
    uses = next((i for i, c in enumerate(commands) if ".venv/bin/" in c), None)
    assert sync is not None, f"make {target} on a fresh clone never makes the venv: {commands}"
    assert uses is None or sync < uses, f"make {target} uses the venv before making it: {commands}"
