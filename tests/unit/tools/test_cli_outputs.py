"""Outputs checked before the work: a replay or a demo whose --out cannot be written says so at
once, naming the option, instead of a traceback after minutes of replay."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fseflow_tools.cli.main import app
from fseflow_tools.cli.outputs import directory_problem, file_problem

EVERY_REASON = Path(__file__).parents[2] / "e2e" / "scenarios" / "every-reason.json"


def test_a_file_under_a_missing_folder_is_fine_and_the_folder_is_made(tmp_path: Path) -> None:
    assert file_problem(tmp_path / "new" / "deeper" / "r.json") is None
    assert (tmp_path / "new" / "deeper").is_dir()
    assert list((tmp_path / "new" / "deeper").iterdir()) == []  # the probe leaves nothing


def test_what_cannot_be_written_says_why(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert file_problem(a_file / "r.json") == f"{a_file} is a file, not a directory"
    assert file_problem(a_file / "x" / "r.json") == f"{a_file} is a file, not a directory"
    assert directory_problem(a_file) == f"{a_file} is a file, not a directory"
    assert file_problem(tmp_path) == "is a directory"
    assert file_problem(Path("/proc/r.json")) is not None  # procfs takes no new files, even as root


def test_replay_refuses_its_out_before_any_stack_is_looked_for(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    outcome = CliRunner().invoke(app, ["replay", str(EVERY_REASON), "--out", str(a_file / "r.json")])
    assert outcome.exit_code == 2
    assert f"--out {a_file / 'r.json'}: cannot write there: {a_file} is a file" in " ".join(
        outcome.output.split()
    )


def test_replay_refuses_a_day_timeout_not_above_zero(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        app, ["replay", str(EVERY_REASON), "--out", str(tmp_path / "r.json"), "--day-timeout", "-1"]
    )
    assert outcome.exit_code == 2
    assert "--day-timeout: a number of seconds above 0, got -1" in outcome.output


def test_demo_refuses_an_out_dir_that_is_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    outcome = CliRunner().invoke(app, ["demo", "--out-dir", str(a_file)])
    assert outcome.exit_code == 2
    assert f"--out-dir {a_file}: cannot write there: {a_file} is a file, not a directory" in " ".join(
        outcome.output.split()
    )
