"""Documents and the Scor quality aid through a whole replay (R14, R16, R17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import load
from tests.conftest import RunningStack, run

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).parent / "scenarios" / "scor-aid.json"


@pytest.fixture(scope="module")
def results(running: RunningStack) -> dict[str, Any]:
    out = run(Replay(load(SCENARIO), running.endpoints).run())
    assert isinstance(out, dict)
    return out


def test_every_document_is_stored_and_matched_to_its_fse(results: dict[str, Any]) -> None:
    documents = results["documents"]
    assert len(documents) == 47  # 45 with their lots, one sent later, one sent before its FSE
    assert documents["pj-1"] == {
        "fse": "fse-1",
        "stored_on": "2026-03-02",
        "exploitable": True,
        "kind": "prescription",
        "channel": "scor",
        "quality_reason": None,
    }
    assert documents["pj-late"]["fse"] == "fse-1" and documents["pj-late"]["stored_on"] == "2026-03-23"
    assert documents["pj-early"]["fse"] == "fse-early"
    unreadable = [d for d in documents.values() if not d["exploitable"]]
    assert len(unreadable) == 1 and "72 dpi" in unreadable[0]["quality_reason"]
    # Documents of a professional who does not use Scor still arrive: as paper, scanned by the caisse.
    sender = {
        f["document"]["id"]: e["lot"]["ps"]
        for e in json.loads(SCENARIO.read_text())["events"]
        if "lot" in e
        for f in e["lot"]["fse"]
        if "document" in f
    }
    assert {documents[d]["channel"] for d, ps in sender.items() if ps == "ps-paper"} == {"paper"}
    assert {documents[d]["channel"] for d, ps in sender.items() if ps != "ps-paper"} == {"scor"}


def test_the_scor_aid_goes_to_the_professional_above_99_percent_only(results: dict[str, Any]) -> None:
    # ps-good: every document exploitable; ps-bad: 14 of 15 (93 %); ps-paper: not on Scor.
    # scor_since 5 Jan 2026 + 90 days = Sunday 5 April; Easter Monday 6 April: Tuesday 7 April.
    assert results["aids"] == [{"ps": "ps-good", "kind": "scor-90", "on": "2026-04-07", "amount": 90.0}]


async def test_the_exploitable_rate_is_kept_per_professional(
    running: RunningStack, results: dict[str, Any]
) -> None:
    import asyncpg

    conn = await asyncpg.connect(running.state.database_url)
    try:
        rows = await conn.fetch(
            "SELECT ps_id, first_90_days_documents, first_90_days_exploitable FROM scor.professional_quality "
            "WHERE world LIKE 'scor-documents-and-aid-%' ORDER BY ps_id"
        )
    finally:
        await conn.close()
    latest = {r["ps_id"]: (r["first_90_days_documents"], r["first_90_days_exploitable"]) for r in rows}
    assert latest["ps-bad"] == (15, 14)
    assert latest["ps-good"][0] == latest["ps-good"][1] >= 15
    assert latest["ps-paper"] == (0, 0)  # not a Scor user: nothing in a Scor window
