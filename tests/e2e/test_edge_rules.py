"""The clarified contract and the rules against absurd claims, replayed through the whole stack:
an AIS 3 FSE the same day as another (same nurse, same patient) is never DUPLICATE — only
AIS3_DAILY_LIMIT counts them; a sheet of 300 identical lines, or of 260 distinct ones, is not paid;
a NIR in full-width digits fails its key check; other acts are still DUPLICATE."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import parse
from fseflow_tools.scenarios.pole import KNOWN_PRESCRIBER, P1, P2, world
from tests.conftest import RunningStack, run

pytestmark = pytest.mark.e2e

ON = "2026-03-02"  # Monday: delivered on the 3rd, accords paid on Monday the 9th (3 + 4 = Saturday)
FRIDAY = "2026-02-27"
FULL_WIDTH_P1 = "".join(chr(ord(c) + 0xFEE0) for c in P1[0])  # "２８６０１３３０６３０８２"


def _act(code: str, coef: float, on: str) -> dict[str, Any]:
    return {"code": code, "coef": coef, "on": on, "complements": []}


def _fse(ident: str, acts: list[dict[str, Any]], patient: tuple[str, str] = P1) -> dict[str, Any]:
    return {
        "id": ident,
        "nir": patient[0],
        "key": patient[1],
        "mode": "securise",
        "prescriber": KNOWN_PRESCRIBER,
        "prescribed_on": "2026-01-02",
        "acts": acts,
    }


def _lot(ident: str, *sheets: dict[str, Any]) -> dict[str, Any]:
    return {"on": ON, "lot": {"id": ident, "ps": "ps-a", "fse": list(sheets)}}


def edge_rules() -> dict[str, Any]:
    ais3 = _act("AIS", 3, FRIDAY)
    # 130 days of one AMI and one IFD each: 260 distinct lines, none repeated.
    days = [(date(2026, 3, 1) - timedelta(days=d)).isoformat() for d in range(130)]
    distinct = [_act(code, 1, day) for day in days for code in ("AMI", "IFD")]
    return {
        "name": "edge-rules",
        "start": ON,
        "until": "2026-03-10",
        "world": world(),
        "events": [
            # The same nurse, patient and day, one lot after the other: 2 + 2 AIS 3, then 1 more.
            _lot("lot-ais3-1", _fse("e-ais3-first", [ais3, ais3])),
            _lot("lot-ais3-2", _fse("e-ais3-same-day", [ais3, ais3])),
            _lot("lot-ais3-3", _fse("e-ais3-over-limit", [ais3])),
            # Other acts are still duplicates of an accorded FSE.
            _lot("lot-ami-1", _fse("e-ami-first", [_act("AMI", 4, "2026-02-26")])),
            _lot("lot-ami-2", _fse("e-ami-again", [_act("AMI", 4, "2026-02-26")])),
            _lot(
                "lot-absurd",
                _fse("e-two-identical-lines", [_act("AMI", 1, "2026-02-25")] * 2, P2),
                _fse("e-300-identical-lines", [_act("AMI", 1, "2026-02-24")] * 300, P2),
                _fse("e-260-distinct-lines", distinct, P2),
                _fse("e-four-ais3-lines", [_act("AIS", 3, "2026-02-23")] * 4, P2),
                _fse("e-full-width-nir", [_act("AMI", 4, "2026-02-20")], (FULL_WIDTH_P1, P1[1])),
            ),
        ],
    }


EXPECTED = {
    "e-ais3-first": ("accord", [], "paid"),
    "e-ais3-same-day": ("accord", [], "paid"),  # AIS 3 the same day: never DUPLICATE
    "e-ais3-over-limit": ("litigieuse", ["AIS3_DAILY_LIMIT"], "pending_review"),
    "e-ami-first": ("accord", [], "paid"),
    "e-ami-again": ("rejet", ["DUPLICATE"], "rejected"),
    "e-two-identical-lines": ("rejet", ["DUPLICATE_LINE"], "rejected"),
    "e-300-identical-lines": ("rejet", ["TOO_MANY_ACTS", "DUPLICATE_LINE"], "rejected"),
    "e-260-distinct-lines": ("rejet", ["TOO_MANY_ACTS"], "rejected"),
    "e-four-ais3-lines": ("accord", [], "paid"),  # up to the daily limit: not duplicate lines
    "e-full-width-nir": ("rejet", ["NIR_KEY", "PATIENT_UNKNOWN"], "rejected"),
}


@pytest.fixture(scope="module")
def results(running: RunningStack) -> dict[str, Any]:
    replayed = run(Replay(parse(edge_rules()), running.endpoints).run())
    assert isinstance(replayed, dict)
    return replayed


def test_each_fse_gets_its_classification_reasons_and_status(results: dict[str, Any]) -> None:
    got = {
        fse: (entry["classification"], entry["reasons"], entry["status"])
        for fse, entry in results["fse"].items()
    }
    assert got == EXPECTED


def test_nothing_absurd_is_paid(results: dict[str, Any]) -> None:
    paid = {fse for payment in results["payments"] for fse in payment["fse"]}
    assert paid == {fse for fse, (_, _, status) in EXPECTED.items() if status == "paid"}
    # Four FSE paid: AIS 3 x 2 twice, AMI 4, AIS 3 x 4, at 60 %.
    assert results["totals"]["paid"] == pytest.approx(2 * 9.54 + 7.56 + 19.08)
