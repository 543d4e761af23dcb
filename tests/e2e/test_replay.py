"""Scenario replays through the whole running stack (the replay contract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fseflow.replay.driver import Replay
from fseflow.replay.scenario import load
from tests.conftest import RunningStack, run

pytestmark = pytest.mark.e2e

EVERY_REASON = Path(__file__).parent / "scenarios" / "every-reason.json"

EXPECTED: dict[str, tuple[str | None, list[str]]] = {
    "f-accord": ("accord", []),
    "f-nir-key": ("rejet", ["NIR_KEY"]),
    "f-patient-unknown": ("rejet", ["PATIENT_UNKNOWN"]),
    "f-no-rights": ("rejet", ["NO_RIGHTS"]),
    "f-prescriber-invalid": ("rejet", ["PRESCRIBER_INVALID"]),
    "f-prescriber-unknown": ("litigieuse", ["PRESCRIBER_UNKNOWN"]),
    "f-act-code-unknown": ("rejet", ["ACT_CODE_UNKNOWN"]),
    "f-coef-invalid": ("rejet", ["COEF_INVALID"]),
    "f-act-in-future": ("rejet", ["ACT_IN_FUTURE"]),
    "f-duplicate": ("rejet", ["DUPLICATE"]),
    "f-too-many-lines": ("rejet", ["TOO_MANY_LINES"]),
    "f-ald-not-eligible": ("litigieuse", ["ALD_NOT_ELIGIBLE"]),
    "f-hospital": ("litigieuse", ["DURING_HOSPITAL_STAY"]),
    "f-ais3-first": ("accord", []),
    "f-signature": ("litigieuse", ["SIGNATURE_NOT_EXEMPT"]),
    "f-di": ("litigieuse", ["DI_WITHOUT_PRESCRIPTION"]),
    "f-exempt-ok": ("accord", []),
    "f-ald-ok": ("accord", []),
    "f-replacement": ("rejet", ["REPLACEMENT_MODE"]),
    "f-ais3-over": ("litigieuse", ["AIS3_DAILY_LIMIT"]),
    "f-orphan": (None, []),
    "f-saturday": ("accord", []),
    "f-nir-key-fixed": ("accord", []),
}
STATUS = {"accord": "validated", "rejet": "rejected", "litigieuse": "pending_review", None: "lot_refused"}


@pytest.fixture(scope="module")
def every_reason(running: RunningStack) -> dict[str, Any]:
    results = run(Replay(load(EVERY_REASON), running.endpoints).run())
    assert isinstance(results, dict)
    return results


def test_each_fse_gets_its_expected_classification_and_reasons(every_reason: dict[str, Any]) -> None:
    got = {fse: (entry["classification"], entry["reasons"]) for fse, entry in every_reason["fse"].items()}
    assert got == EXPECTED
    for fse, (outcome, _) in EXPECTED.items():
        assert every_reason["fse"][fse]["status"] == STATUS[outcome], fse


def test_amounts_follow_the_rule(every_reason: dict[str, Any]) -> None:
    fse = every_reason["fse"]
    assert fse["f-accord"]["amount"] == 7.56  # AMI 4 x 60 %
    assert fse["f-ald-ok"]["amount"] == 18.20  # (AMI 2 + night + IFD) x 100 % under ALD
    assert fse["f-ais3-first"]["amount"] == 28.71  # 3 x (AIS 3 + Sunday) x 60 %
    assert fse["f-orphan"]["amount"] is None


def test_lots_and_arls(every_reason: dict[str, Any]) -> None:
    lots = every_reason["lots"]
    assert lots["lot-1"]["arl"] == "positive" and lots["lot-1"]["cti"] == 3
    assert [e["code"] for e in lots["lot-1"]["resubmitted"][0]["errors"]] == ["LOT_DUPLICATE"]
    assert [e["code"] for e in lots["lot-empty"]["errors"]] == ["LOT_EMPTY"]
    assert [(e["code"], e["field"]) for e in lots["lot-stranger"]["errors"]] == [("PS_UNKNOWN", "lot.ps_id")]
    assert lots["lot-saturday"]["arl_on"] == "2026-03-09"  # received on a Saturday
    assert every_reason["fse"]["f-saturday"]["checked_on"] == "2026-03-09"
    notices = every_reason["notices"]
    assert len(notices) == 8 and {n["kind"] for n in notices} == {"arl"}
    assert all(n["text"].startswith("Accusé de réception logique") for n in notices)


def test_totals_and_notes(every_reason: dict[str, Any]) -> None:
    totals = every_reason["totals"]
    outcomes = [outcome for outcome, _ in EXPECTED.values()]
    assert totals["fse"] == len(EXPECTED) == 23
    for outcome in ("accord", "rejet", "litigieuse"):
        assert totals[outcome] == outcomes.count(outcome), outcome
    assert totals["lot_refused"] == outcomes.count(None) == 1
    assert totals["cost_caisse"] == round(21 * 0.27 + 1.74, 2)  # one paper sheet among 22 checked
    assert any("decision" in note for note in every_reason["notes"])


def test_same_scenario_same_results_through_the_command_line(
    running: RunningStack, every_reason: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["FSEFLOW_HOME"] = running.state.home
    done = subprocess.run(
        [sys.executable, "-m", "fseflow.cli.main", "replay", str(EVERY_REASON), "--out", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == every_reason
