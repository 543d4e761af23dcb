"""The command line's stack commands where no stack is needed: shell exports, bad days, a replay
whose stack goes away."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fseflow_tools.cli.main import _run_watched, app, replay_with_progress, shell_exports
from fseflow_tools.replay.driver import ReplayFailed


def test_env_exports_survive_eval_in_bash_whatever_the_values() -> None:
    values = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:15432/fseflow",
        "ODD": 'it\'s a "quoted" $HOME `date` value; with spaces\tand a tab',
        "LONG": "x" * 300,
        "EMPTY": "",
    }
    script = shell_exports(values)
    assert all(line.startswith("export ") for line in script.splitlines())
    assert len(script.splitlines()) == len(values)  # one line each, never wrapped
    printed = subprocess.run(
        ["bash", "-c", 'eval "$(cat)" && printf "%s\\0" "$DATABASE_URL" "$ODD" "$LONG" "$EMPTY"'],
        input=script,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    assert printed.split("\0")[:-1] == list(values.values())


def test_clock_close_names_the_day_option_for_an_impossible_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["clock", "close", "--day", "2026-02-30"], env={"FSEFLOW_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    assert "--day: '2026-02-30' is not a date (YYYY-MM-DD)" in result.output
    assert "Traceback" not in result.output


def test_status_without_a_stack_says_so(tmp_path: Path) -> None:
    for arguments in (["status"], ["status", "--json"], ["restart", "ingest"], ["env"]):
        result = CliRunner().invoke(app, arguments, env={"FSEFLOW_HOME": str(tmp_path)})
        assert result.exit_code == 1, arguments
        assert "stack" in result.output.lower()


def test_status_json_without_a_stack_is_still_a_json_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--json"], env={"FSEFLOW_HOME": str(tmp_path)})
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"home": str(tmp_path.resolve()), "stack": None}


class _EndlessReplay:
    """A replay that never finishes on its own, and records that its clean-up ran."""

    def __init__(self) -> None:
        self.cleaned_up = False

    async def run(self) -> dict[str, Any]:
        try:
            await asyncio.Event().wait()
        finally:
            self.cleaned_up = True
        raise AssertionError("unreachable")


def test_a_replay_whose_stack_goes_away_ends_within_seconds_with_the_reason() -> None:
    replay = _EndlessReplay()
    checks: list[float] = []

    def watch() -> str | None:
        checks.append(time.monotonic())
        return "Tansu (pid 42) stopped" if len(checks) >= 2 else None

    started = time.monotonic()
    with pytest.raises(ReplayFailed, match=r"the stack went away mid-run: Tansu \(pid 42\) stopped"):
        asyncio.run(_run_watched(replay, watch))
    assert replay.cleaned_up
    assert time.monotonic() - started < 5


def test_a_replay_that_finishes_is_returned_as_it_is() -> None:
    class Quick:
        async def run(self) -> dict[str, Any]:
            return {"world": "w"}

    assert asyncio.run(_run_watched(Quick(), lambda: None)) == {"world": "w"}
    assert asyncio.run(_run_watched(Quick(), None)) == {"world": "w"}


def test_a_replay_not_on_a_terminal_prints_plain_day_lines_about_twenty_in_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field test's demo log showed the live bar cut to "business days ━━ 10… … 0:…"."""
    from datetime import date, timedelta

    from fseflow_tools.replay import driver

    class FortyDays:
        def __init__(self, scenario: Any, system: Any, *, progress: Any, day_timeout: float) -> None:
            self.progress = progress

        async def run(self) -> dict[str, Any]:
            for number in range(1, 41):
                day = date(2026, 3, 2) + timedelta(days=number)
                self.progress(driver.Progress(day, number, 40, number * 5, number * 50, number * 49))
            return {"world": "w"}

    monkeypatch.setenv("FSEFLOW_HOME", str(tmp_path))
    monkeypatch.setattr(driver, "Replay", FortyDays)
    results, _ = replay_with_progress(object(), object(), show=True)  # type: ignore[arg-type]
    assert results == {"world": "w"}
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("business day ")]
    assert len(lines) == 20
    assert lines[0] == "business day 2/40 done: 2026-03-04 · lots 10 · FSE sent 100 · classified 98"
    assert lines[-1].startswith("business day 40/40 done: 2026-04-11")
