"""`fseflow account`: how each recovery's state reads in the ledger."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from fseflow_tools.cli.account import recovery_state
from fseflow_tools.cli.main import app


def _recovery(**fields: Any) -> dict[str, Any]:
    base = {"cancelled_on": None, "remaining_cents": 2268, "first_applied_on": None, "last_applied_on": None}
    return base | fields


def test_a_cancelled_recovery_shows_when_its_document_came() -> None:
    cancelled = _recovery(cancelled_on="2026-08-26")
    assert recovery_state(cancelled, "2026-08-03") == "cancelled 2026-08-26: document matched 2026-08-03"
    assert recovery_state(cancelled, None) == "cancelled 2026-08-26: document matched"


def test_the_other_states_of_a_recovery() -> None:
    assert recovery_state(_recovery(), None) == "waiting for a payment"
    assert recovery_state(_recovery(first_applied_on="2026-08-26"), None) == "recovering since 2026-08-26"
    done = _recovery(remaining_cents=0, first_applied_on="2026-08-26", last_applied_on="2026-09-02")
    assert recovery_state(done, None) == "recovered 2026-08-26 - 2026-09-02"


def test_an_empty_professional_id_is_refused_before_any_database_is_looked_for() -> None:
    result = CliRunner().invoke(app, ["account", ""], env={"DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "PS_ID: a professional's id, got an empty one" in result.output
