"""`fseflow load` refuses impossible options before anything starts, naming the option; a
deployment it cannot reach is one line and exit 4."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fseflow_tools.cli.main import app


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--profile", "flat"], "--profile 'flat': expected one of constant, step, ramp, national-day"),
        (["--find-knee"], "--find-knee: only with --profile step"),
        (["--profile", "step", "--step", "0"], "--step: must be a positive number, got 0"),
        (["--rate", "-5"], "--rate: must be a positive number, got -5"),
        (["--profile", "national-day", "--days", "0"], "--days: at least 1 working day, got 0"),
        (["--workers", "0"], "--workers: at least 1, got 0"),
    ],
)
def test_an_impossible_option_exits_2_naming_it(arguments: list[str], message: str) -> None:
    outcome = CliRunner().invoke(app, ["load", *arguments])
    assert outcome.exit_code == 2
    assert message in outcome.output


def test_an_unreachable_deployment_is_one_line_and_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSEFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("DATABASE_URL", "postgresql://load@127.0.0.1:1/none")
    outcome = CliRunner().invoke(app, ["load", "--no-ceiling", "--quiet", "--duration", "5"])
    assert outcome.exit_code == 4
    assert "load failed: ConnectionRefusedError" in outcome.output
