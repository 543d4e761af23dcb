"""Values a command cannot work with are refused before anything starts or is written: exit 2,
naming the option and its bound (a field test met tracebacks, a restart that left its service down, and a
bench that hung with no call in flight)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fseflow_tools.cli.main import app
from fseflow_tools.demo import DemoShape, DemoTooSmall, generate


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["restart", "pointage", "--grace", "-5"], "'--grace'"),
        (["restart", "pointage", "--timeout", "0"], "'--timeout'"),
        (["subscribe", "01-331", "--idle-exit", "-1"], "'--idle-exit'"),
        (["bench", "--fse", "-5"], "'--fse'"),
        (["bench", "--lot-size", "1000"], "'--lot-size'"),
        (["bench", "--concurrency", "0"], "'--concurrency'"),
        (["bench-brokers", "--concurrency", "0"], "'--concurrency'"),
        (["chaos", "--rounds", "0"], "'--rounds'"),
        (["chaos", "--kills", "-1"], "'--kills'"),
        (["load", "world", "--patients", "0"], "'--patients'"),
        (["demo", "--days", "1"], "--days: at least 3, got 1"),
        (["demo", "--professionals", "1"], "--professionals: at least 2, got 1"),
        (["demo", "--patients", "5"], "--patients: 5 is too few for 50 professionals"),
        (["certs", "--technician", "1-331"], "--technician: organism '1-331' is not RR-CCC"),
        (
            ["up", "--replicas", "national-check=0"],
            "--replicas 'national-check=0': N is a number of processes, 1 or more",
        ),
        (
            ["up", "--replicas", "ingest=2"],
            "--replicas 'ingest=2': SERVICE=N with SERVICE one of national-check",
        ),
        (["certs", "--professional", "../x"], "--professional: '../x' is not a professional id"),
    ],
)
def test_an_option_out_of_its_bounds_is_refused_before_anything_starts(
    arguments: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSEFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert named in " ".join(result.output.split())
    assert not (tmp_path / "home").exists()  # no stack was started


def test_the_demo_generator_names_what_is_too_small_instead_of_looping() -> None:
    too_few = r"--patients: 1 is too few for 2 professionals: ps-00\d has no patient"
    with pytest.raises(DemoTooSmall, match=too_few):
        generate(DemoShape(business_days=3, professionals=2, patients=1))
    assert generate(DemoShape(business_days=3, professionals=8, patients=100))["events"]
