"""The departmental pôle end to end (R3-R9, R11, R16): delivery, validation, payment, decisions,
Compagnon, corrections and document matching on the contract's days, across public holidays;
a caisse's own topics; a restart of pointage in the middle of a replay."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest

from fseflow.contracts.claims.v1.claims_pb2 import BillingMode
from fseflow_tools.replay.driver import Progress, Replay
from fseflow_tools.replay.scenario import parse
from fseflow_tools.scenarios import pole as pole_scenarios
from tests.conftest import Kill, RunningStack, comparable, run

pytestmark = pytest.mark.e2e


def _replay(running: RunningStack, document: dict[str, Any]) -> dict[str, Any]:
    results = run(Replay(parse(document), running.endpoints).run())
    assert isinstance(results, dict)
    return results


@pytest.fixture(scope="module")
def whit(running: RunningStack) -> dict[str, Any]:
    return _replay(running, pole_scenarios.whit_monday())


def _timeline(results: dict[str, Any], fse: str) -> tuple[Any, ...]:
    entry = results["fse"][fse]
    return (entry["status"], entry["delivered_on"], entry["decided_on"], entry["paid_on"])


def test_accords_delivered_next_day_validated_and_paid_four_days_later_across_whit_monday(
    whit: dict[str, Any],
) -> None:
    # Tuesday 19 -> delivered Wednesday 20, validated that day, 20 + 4 = Sunday 24, Monday 25 is
    # Whit Monday: paid Tuesday 26.
    assert _timeline(whit, "w-after") == ("paid", "2026-05-20", "2026-05-20", "2026-05-26")
    # Wednesday 20 -> Thursday 21 -> 25 is a holiday -> 26.
    assert _timeline(whit, "w-with") == ("paid", "2026-05-21", "2026-05-21", "2026-05-26")
    # Thursday 21 -> Friday 22 -> Tuesday 26.
    assert _timeline(whit, "w-docfirst") == ("paid", "2026-05-22", "2026-05-22", "2026-05-26")
    # Friday 22 -> the next business day is Tuesday 26 -> Saturday 30 -> Monday 1 June.
    assert _timeline(whit, "w-friday") == ("paid", "2026-05-26", "2026-05-26", "2026-06-01")
    assert _timeline(whit, "w-degrade") == ("paid", "2026-05-26", "2026-05-26", "2026-06-01")
    assert _timeline(whit, "c-accord") == ("paid", "2026-05-26", "2026-05-26", "2026-06-01")
    # A paper sheet received Friday 22 is paid 20 days later: Thursday 11 June.
    assert _timeline(whit, "w-paper") == ("paid", "2026-05-26", "2026-05-26", "2026-06-11")


def test_litigieuses_decided_each_way(whit: dict[str, Any]) -> None:
    # Decided accord on Wednesday 20: paid 20 + 4 = 24 -> (25 holiday) 26.
    assert _timeline(whit, "w-litig-accord") == ("paid", "2026-05-20", "2026-05-20", "2026-05-26")
    assert whit["fse"]["w-litig-accord"]["decided_by"] == "t-33-01"
    assert _timeline(whit, "w-litig-rejet") == ("rejected", "2026-05-20", "2026-05-21", None)
    assert _timeline(whit, "w-b-litig") == ("rejected", "2026-05-20", "2026-05-20", None)
    # w-friday is an accord: a technician cannot decide it; the refusal says why.
    assert "not waiting for a technician's decision" in whit["decisions_refused"]["w-friday"]


def test_compagnon_notices_only_for_enrolled_professionals_on_the_contract_days(whit: dict[str, Any]) -> None:
    compagnon = {(n["fse"], n["to"], n["on"]) for n in whit["notices"] if n["kind"] == "compagnon"}
    assert compagnon == {
        ("w-rejet", "ps-a", "2026-05-20"),  # a rejet: on its delivery day
        ("w-litig-rejet", "ps-a", "2026-05-21"),  # a litigieuse decided rejet: on the decision day
    }  # ps-b's rejet and decided rejet: ps-b is not enrolled, nothing is sent
    texts = {n["fse"]: n["text"] for n in whit["notices"] if n["kind"] == "compagnon"}
    assert "clé du numéro de sécurité sociale" in texts["w-rejet"]
    assert "prescripteur n'est pas dans l'annuaire" in texts["w-litig-rejet"]


def test_a_correction_replaces_the_rejected_fse_and_goes_through_the_whole_chain(
    whit: dict[str, Any],
) -> None:
    original = whit["fse"]["w-rejet"]
    assert (original["status"], original["replaced_by"]) == ("replaced", "w-fixed")
    # The correction, sent Friday 22: delivered Tuesday 26, paid Monday 1 June.
    assert _timeline(whit, "w-fixed") == ("paid", "2026-05-26", "2026-05-26", "2026-06-01")
    assert whit["fse"]["w-fixed"]["classification"] == "accord"


def test_documents_are_matched_the_business_day_after_both_are_known(whit: dict[str, Any]) -> None:
    matched = {fse: entry["document_matched_on"] for fse, entry in whit["fse"].items()}
    assert matched["w-docfirst"] == "2026-05-22"  # document Tue 19, FSE Thu 21 -> Fri 22
    assert matched["w-with"] == "2026-05-21"  # together on Wed 20 -> Thu 21
    assert matched["w-after"] == "2026-05-26"  # FSE Tue 19, document Fri 22 -> Tue 26 (Whit Monday)
    assert matched["w-degrade"] == "2026-05-26"  # mode dégradé: its FSP is the document
    assert matched["w-friday"] is None  # no document: left open for the relances


def test_one_payment_per_professional_per_day_and_costs(whit: dict[str, Any]) -> None:
    payments = {(p["ps"], p["on"]): p for p in whit["payments"]}
    assert sorted(payments) == [
        ("ps-a", "2026-05-26"),
        ("ps-a", "2026-06-01"),
        ("ps-a", "2026-06-11"),
        ("ps-c", "2026-06-01"),
    ]
    assert sorted(payments[("ps-a", "2026-05-26")]["fse"]) == [
        "w-after",
        "w-docfirst",
        "w-litig-accord",
        "w-with",
    ]
    fse = whit["fse"]
    for payment in whit["payments"]:
        assert payment["gross"] == round(sum(fse[f]["amount"] for f in payment["fse"]), 2)
        assert payment["net"] == payment["gross"] and payment["offset"] == 0.0
    assert whit["totals"]["paid"] == round(sum(p["gross"] for p in whit["payments"]), 2)
    checked = [e for e in fse.values() if e["classification"]]
    assert whit["totals"]["cost_caisse"] == round((len(checked) - 1) * 0.27 + 1.74, 2)  # one paper sheet


async def test_acts_are_counted_per_professional_year_and_mode(
    running: RunningStack, whit: dict[str, Any]
) -> None:
    """The 70 % rule of the teletransmission aid (R22) needs each professional's acts by mode."""
    conn = await asyncpg.connect(running.state.database_url)
    try:
        rows = await conn.fetch(
            "SELECT ps_id, year, mode, acts FROM pointage.act_counts WHERE world = $1", whit["world"]
        )
    finally:
        await conn.close()
    counts = {(r["ps_id"], r["year"], BillingMode.Name(r["mode"])): r["acts"] for r in rows}
    assert counts == {
        # ps-a: ten sheets of one act each, one on paper, one in mode dégradé (the correction included)
        ("ps-a", 2026, "BILLING_MODE_SECURISE"): 8,
        ("ps-a", 2026, "BILLING_MODE_PAPIER"): 1,
        ("ps-a", 2026, "BILLING_MODE_DEGRADE"): 1,
        ("ps-b", 2026, "BILLING_MODE_SECURISE"): 2,
        ("ps-c", 2026, "BILLING_MODE_SECURISE"): 1,
    }


def test_every_fse_is_delivered_and_ends_in_one_state(whit: dict[str, Any]) -> None:
    for ident, entry in whit["fse"].items():
        assert entry["delivered_on"] is not None, ident
        assert entry["status"] in ("paid", "rejected", "replaced"), ident


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            pole_scenarios.bastille_day,
            {
                # Thursday 9 July -> Friday 10 -> 14 July is a holiday -> paid Wednesday 15.
                "j-thu": ("paid", "2026-07-10", "2026-07-10", "2026-07-15"),
                # Monday 13 -> Wednesday 15 (14 July) -> Sunday 19 -> Monday 20.
                "j-mon": ("paid", "2026-07-15", "2026-07-15", "2026-07-20"),
            },
        ),
        (
            pole_scenarios.armistice,
            {
                # Friday 6 November -> Monday 9 -> Friday 13.
                "n-fri": ("paid", "2026-11-09", "2026-11-09", "2026-11-13"),
                # Tuesday 10 -> Thursday 12 (11 November) -> Monday 16.
                "n-tue": ("paid", "2026-11-12", "2026-11-12", "2026-11-16"),
            },
        ),
    ],
)
def test_timelines_across_bastille_day_and_armistice(
    running: RunningStack, scenario: Any, expected: dict[str, tuple[str, ...]]
) -> None:
    results = _replay(running, scenario())
    assert {fse: _timeline(results, fse) for fse in expected} == expected
    if "n-tue" in expected:
        assert results["fse"]["n-tue"]["document_matched_on"] == "2026-11-12"


def _subscribe(running: RunningStack, organism: str, world: str) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["FSEFLOW_HOME"] = running.state.home
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fseflow_tools.cli.main",
            "subscribe",
            organism,
            "--world",
            world,
            "--from-beginning",
            "--idle-exit",
            "3",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_subscribe_shows_one_organisms_flow_and_nothing_of_another(
    running: RunningStack, whit: dict[str, Any]
) -> None:
    landes = _subscribe(running, "01-401", whit["world"])
    assert landes and all(e["topic"].startswith("caisse.01-401.") for e in landes)
    assert all(e["event"]["organism"] == "01-401" for e in landes)
    kinds = {
        (e["type"].rsplit(".", 1)[1], e["event"].get("fse_id") or e["event"].get("ps_id")) for e in landes
    }
    assert ("FseDelivered", "c-accord") in kinds and ("PaymentMade", "ps-c") in kinds
    gironde = _subscribe(running, "01-331", whit["world"])
    delivered = {e["event"]["fse_id"] for e in gironde if e["type"].endswith("FseDelivered")}
    assert "c-accord" not in delivered and {"w-after", "w-fixed", "w-b-rejet"} <= delivered
    assert {e["event"]["organism"] for e in gironde} == {"01-331"}


async def _pole_rows(database_url: str, world: str) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    try:
        payments = await conn.fetch(
            "SELECT ps_id, paid_on, gross_cents FROM pointage.payments WHERE world = $1 ORDER BY 1, 2", world
        )
        days = await conn.fetchval("SELECT count(*) FROM pointage.closed_days WHERE world = $1", world)
    finally:
        await conn.close()
    return {"payments": [tuple(r) for r in payments], "days": days}


async def test_restart_of_pointage_mid_replay_gives_identical_results(
    running: RunningStack, whit: dict[str, Any]
) -> None:
    tasks: list[asyncio.Task[None]] = []
    kills: list[Kill] = []
    latest: list[Progress] = []
    landed_on: list[Progress] = []

    async def kill_and_restart() -> None:
        # The moment the pôle consumes the next day's records.
        kills.append(await asyncio.to_thread(running.kill_when_busy, "pointage"))
        landed_on.append(latest[-1])
        await asyncio.to_thread(running.start, "pointage")

    def on_progress(progress: Progress) -> None:
        latest.append(progress)
        if progress.days_done == 4 and not tasks:
            tasks.append(asyncio.get_running_loop().create_task(kill_and_restart()))

    disturbed = Replay(parse(pole_scenarios.whit_monday()), running.endpoints, progress=on_progress)
    got = await disturbed.run()
    await asyncio.gather(*tasks)
    assert tasks, "pointage was not restarted"
    # The kill landed mid-work: records consumed before it, days still to go, records after.
    assert kills[0].consumed_before > 0, kills
    assert landed_on[0].days_done < landed_on[0].days_total, landed_on
    assert running.state.services["pointage"].pid != kills[0].pid and running.consumed("pointage") > 0
    assert comparable(got) == comparable(whit)
    before = await _pole_rows(running.state.database_url, whit["world"])
    after = await _pole_rows(running.state.database_url, disturbed.world)
    assert after == before and len(after["payments"]) == len(whit["payments"])
