"""Scenario replays through the whole running stack (the replay contract)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import load
from tests.conftest import RunningStack, comparable, run

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
# Where each FSE stands when the replay ends on Tuesday 10 March: accords delivered on the 3rd are
# paid on Monday the 9th (3 + 4 = Saturday 7th); the litigieuse decided accord on the 3rd too;
# the rejected f-nir-key is replaced by its correction of the 5th (paid on the 10th); f-saturday,
# checked on Monday 9th, is delivered and validated on the 10th, paid later.
STATUS = {"accord": "paid", "rejet": "rejected", "litigieuse": "pending_review", None: "lot_refused"}
STATUS_EXCEPTIONS = {
    "f-nir-key": "replaced",
    "f-prescriber-unknown": "paid",
    "f-saturday": "validated",
}


@pytest.fixture(scope="module")
def every_reason(running: RunningStack) -> dict[str, Any]:
    results = run(Replay(load(EVERY_REASON), running.endpoints).run())
    assert isinstance(results, dict)
    return results


def test_each_fse_gets_its_expected_classification_and_reasons(every_reason: dict[str, Any]) -> None:
    got = {fse: (entry["classification"], entry["reasons"]) for fse, entry in every_reason["fse"].items()}
    assert got == EXPECTED
    for fse, (outcome, _) in EXPECTED.items():
        assert every_reason["fse"][fse]["status"] == STATUS_EXCEPTIONS.get(fse, STATUS[outcome]), fse


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
    notices = [n for n in every_reason["notices"] if n["kind"] == "arl"]
    assert len(notices) == 8
    assert all(n["text"].startswith("Accusé de réception logique") for n in notices)


def test_totals_and_notes(every_reason: dict[str, Any]) -> None:
    totals = every_reason["totals"]
    outcomes = [outcome for outcome, _ in EXPECTED.values()]
    assert totals["fse"] == len(EXPECTED) == 23
    for outcome in ("accord", "rejet", "litigieuse"):
        assert totals[outcome] == outcomes.count(outcome), outcome
    assert totals["lot_refused"] == outcomes.count(None) == 1
    assert totals["cost_caisse"] == round(21 * 0.27 + 1.74, 2)  # one paper sheet among 22 checked
    paid = [e["amount"] for e in every_reason["fse"].values() if e["status"] == "paid"]
    assert (
        totals["paid"] == round(sum(paid), 2) == round(sum(p["gross"] for p in every_reason["payments"]), 2)
    )
    assert "notes" not in every_reason


def test_the_pole_timeline_of_every_reason(every_reason: dict[str, Any]) -> None:
    fse = every_reason["fse"]
    accord = fse["f-accord"]
    assert (accord["delivered_on"], accord["decided_on"], accord["paid_on"]) == ("2026-03-03",) * 2 + (
        "2026-03-09",
    )
    assert fse["f-prescriber-unknown"]["decided_by"] == "t-33-01"
    assert fse["f-nir-key"]["replaced_by"] == "f-nir-key-fixed"
    assert (fse["f-nir-key-fixed"]["delivered_on"], fse["f-nir-key-fixed"]["paid_on"]) == (
        "2026-03-06",
        "2026-03-10",
    )
    assert fse["f-saturday"]["delivered_on"] == "2026-03-10" and fse["f-saturday"]["paid_on"] is None
    # ps-1 is enrolled in Compagnon: one notice per rejet of theirs, on the delivery day; ps-2
    # and ps-3 are not.
    compagnon = [n for n in every_reason["notices"] if n["kind"] == "compagnon"]
    rejected_of_ps1 = {
        ident
        for ident, entry in fse.items()
        if entry["classification"] == "rejet" and ident not in ("f-replacement",)
    }
    assert {n["fse"] for n in compagnon} == rejected_of_ps1
    assert {(n["to"], n["on"]) for n in compagnon} == {("ps-1", "2026-03-03")}
    assert [p["on"] for p in every_reason["payments"]] == ["2026-03-09", "2026-03-10"]


def test_same_scenario_same_results_through_the_command_line(
    running: RunningStack, every_reason: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["FSEFLOW_HOME"] = running.state.home
    fseflow = [sys.executable, "-m", "fseflow_tools.cli.main"]
    done = subprocess.run(
        [*fseflow, "replay", str(EVERY_REASON), "--out", str(out), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert comparable(json.loads(out.read_text())) == comparable(every_reason)
