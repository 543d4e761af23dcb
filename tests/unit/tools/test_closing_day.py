"""`fseflow clock close --day today`, the daily CronJob's command: the date is Europe/Paris's, a
weekend or a holiday closes nothing and succeeds, a named day must be a business day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fseflow_tools import closing_day
from fseflow_tools.cli.main import app


def test_today_is_the_date_in_paris_not_in_utc() -> None:
    # 23:30 UTC on Wednesday 11 March 2026 is 00:30 on Thursday the 12th in Paris (UTC+1).
    assert closing_day.day_to_close("today", datetime(2026, 3, 11, 23, 30, tzinfo=UTC)) == date(2026, 3, 12)
    # In summer Paris is UTC+2: 21:59 UTC on 30 June is 23:59 the same day.
    assert closing_day.day_to_close("today", datetime(2026, 6, 30, 21, 59, tzinfo=UTC)) == date(2026, 6, 30)


def test_today_on_a_weekend_or_a_holiday_closes_nothing() -> None:
    assert closing_day.day_to_close("today", datetime(2026, 3, 14, 19, 0, tzinfo=UTC)) is None  # Saturday
    assert closing_day.day_to_close("today", datetime(2026, 5, 1, 19, 0, tzinfo=UTC)) is None  # 1 May


def test_a_named_day_must_be_a_business_day() -> None:
    assert closing_day.day_to_close("2026-03-11") == date(2026, 3, 11)
    with pytest.raises(ValueError, match="2026-05-01 is not a business day"):
        closing_day.day_to_close("2026-05-01")
    with pytest.raises(ValueError, match="'yesterday' is not a date"):
        closing_day.day_to_close("yesterday")


def test_the_command_on_a_holiday_exits_0_without_a_broker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(closing_day, "_now", lambda: datetime(2026, 12, 25, 20, 30, tzinfo=closing_day.PARIS))
    result = CliRunner().invoke(
        app, ["clock", "close", "--day", "today"], env={"FSEFLOW_HOME": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert "nothing to close: today (2026-12-25, Europe/Paris) is not a business day" in result.output
