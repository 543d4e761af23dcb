"""The relances over ten months (R13, R22): every branch of the document deadlines, a recovery
carried over several payments, hospital stays learned at 200 and 400 days, steps moved off
weekends and holidays, the aids, and a restart of relances mid-replay that changes nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

from fseflow_tools.replay.driver import Progress, Replay
from fseflow_tools.replay.scenario import parse
from fseflow_tools.scenarios import relances as relance_scenarios
from tests.conftest import Kill, RunningStack, comparable, run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def months(running: RunningStack) -> dict[str, Any]:
    results = run(Replay(parse(relance_scenarios.ten_months()), running.endpoints).run())
    assert isinstance(results, dict)
    return results


def _steps(results: dict[str, Any], fse: str) -> tuple[Any, ...]:
    e = results["fse"][fse]
    return (e["overdue_on"], e["reminder_on"], e["indu_on"], e["recovered_on"], e["recovered_amount"])


def test_a_document_before_j30_stops_everything(months: dict[str, Any]) -> None:
    entry = months["fse"]["r-doc-before-j30"]
    assert (entry["paid_on"], entry["document_matched_on"]) == ("2026-03-09", "2026-03-23")
    assert _steps(months, "r-doc-before-j30") == (None, None, None, None, 0.0)
    assert entry["status"] == "paid"


def test_a_document_between_j45_and_j75_stops_the_indu(months: dict[str, Any]) -> None:
    assert _steps(months, "r-doc-j45-j75") == ("2026-04-08", "2026-04-23", None, None, 0.0)
    assert months["fse"]["r-doc-j45-j75"]["status"] == "paid"  # the document came after all


def test_a_document_between_j75_and_j135_cancels_the_notified_indu(months: dict[str, Any]) -> None:
    # J75 = Saturday 23 May -> Whit Monday 25 -> Tuesday 26 May.
    assert _steps(months, "r-doc-j75-j135") == ("2026-04-08", "2026-04-23", "2026-05-26", None, 0.0)


def test_no_document_ever_the_recovery_is_carried_over_the_next_payments(months: dict[str, Any]) -> None:
    assert _steps(months, "r-doc-never") == ("2026-04-08", "2026-04-23", "2026-05-26", "2026-07-27", 22.68)
    assert months["fse"]["r-doc-never"]["status"] == "overdue"
    payments = {(p["ps"], p["on"]): p for p in months["payments"]}
    assert [
        (payments[("ps-a", day)]["gross"], payments[("ps-a", day)]["offset"], payments[("ps-a", day)]["net"])
        for day in ("2026-07-27", "2026-08-10", "2026-08-24")
    ] == [(1.89, 1.89, 0.0), (15.12, 15.12, 0.0), (15.12, 5.67, 9.45)]
    for payment in months["payments"]:
        assert payment["net"] == round(payment["gross"] - payment["offset"], 2)


def test_hospital_stays_learned_at_200_days_and_at_400_days(months: dict[str, Any]) -> None:
    # Known Saturday 26 September -> indu Monday 28; recovered from 25 November, on Monday 30.
    assert _steps(months, "h-200") == (None, None, "2026-09-28", "2026-11-30", 7.56)
    payment = next(p for p in months["payments"] if (p["ps"], p["on"]) == ("ps-b", "2026-11-30"))
    assert (payment["gross"], payment["offset"], payment["net"]) == (15.12, 7.56, 7.56)
    assert _steps(months, "h-400") == (None, None, None, None, 0.0)  # 400 days: nothing


def test_notices_in_plain_french_on_the_contract_days(months: dict[str, Any]) -> None:
    notices = [n for n in months["notices"] if n["kind"] in ("reminder", "indu", "recovery")]
    got = sorted((n["kind"], n["fse"], n["on"]) for n in notices)
    assert got == sorted(
        [
            ("reminder", "r-doc-j45-j75", "2026-04-23"),
            ("reminder", "r-doc-j75-j135", "2026-04-23"),
            ("reminder", "r-doc-never", "2026-04-23"),
            ("indu", "r-doc-j75-j135", "2026-05-26"),
            ("indu", "r-doc-never", "2026-05-26"),
            ("indu", "h-200", "2026-09-28"),
            ("recovery", "r-doc-never", "2026-07-27"),
            ("recovery", "r-doc-never", "2026-08-10"),
            ("recovery", "r-doc-never", "2026-08-24"),
            ("recovery", "h-200", "2026-11-30"),
        ]
    )
    text = {
        (n["kind"], n["fse"]): n["text"]
        for n in notices
        if n["on"] in ("2026-04-23", "2026-05-26", "2026-07-27")
    }
    text[("indu", "h-200")] = next(n["text"] for n in notices if (n["kind"], n["fse"]) == ("indu", "h-200"))
    assert "r-doc-never" in text[("reminder", "r-doc-never")] and "AMI 4" in text[("reminder", "r-doc-never")]
    assert "22,68 €" in text[("indu", "r-doc-never")] and "22/07/2026" in text[("indu", "r-doc-never")]
    assert "hospitalisation" in text[("indu", "h-200")]
    assert "20,79 €" in text[("recovery", "r-doc-never")]  # what is still owed after 27 July
    assert "27/07/2026" in text[("recovery", "r-doc-never")]
    assert "AMI 4" in text[("recovery", "r-doc-never")]  # which act is taken back


def test_aids_and_totals(months: dict[str, Any]) -> None:
    assert months["aids"] == [
        {"ps": "ps-a", "kind": "first-fse-100", "on": "2026-03-09", "amount": 100.0},
        {"ps": "ps-c", "kind": "first-fse-100", "on": "2026-03-09", "amount": 100.0},
        # 4 January 2027, the first business day of 2027; ps-b sent half its acts on paper.
        {"ps": "ps-a", "kind": "teletransmission-300", "on": "2027-01-04", "amount": 300.0},
        {"ps": "ps-c", "kind": "teletransmission-300", "on": "2027-01-04", "amount": 300.0},
    ]
    assert months["totals"]["recovered"] == 30.24


def test_the_account_of_a_professional(running: RunningStack, months: dict[str, Any]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    env["FSEFLOW_HOME"] = running.state.home
    done = subprocess.run(
        [sys.executable, "-m", "fseflow_tools.cli.main", "account", "ps-a", "--world", months["world"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "r-doc-never" in out and "22.68" in out and "2026-07-27" in out
    assert "cancelled" in out  # r-doc-j75-j135: its document came before J135


async def test_restart_of_relances_mid_replay_changes_nothing(
    running: RunningStack, months: dict[str, Any]
) -> None:
    tasks: list[asyncio.Task[None]] = []
    kills: list[Kill] = []
    latest: list[Progress] = []
    landed_on: list[Progress] = []

    async def kill_and_restart() -> None:
        kills.append(await asyncio.to_thread(running.kill_when_busy, "relances"))
        landed_on.append(latest[-1])
        await asyncio.to_thread(running.start, "relances")

    def on_progress(progress: Progress) -> None:
        latest.append(progress)
        # Around J45 (23 April): deadlines open, reminders about to fire.
        if progress.day.isoformat() == "2026-04-22" and not tasks:
            tasks.append(asyncio.get_running_loop().create_task(kill_and_restart()))

    got = await Replay(parse(relance_scenarios.ten_months()), running.endpoints, progress=on_progress).run()
    await asyncio.gather(*tasks)
    assert tasks, "relances was not restarted"
    # The kill landed mid-work: records consumed before it, days still to go, records after.
    assert kills[0].consumed_before > 0, kills
    assert landed_on[0].days_done < landed_on[0].days_total, landed_on
    assert running.state.services["relances"].pid != kills[0].pid and running.consumed("relances") > 0
    assert comparable(got) == comparable(months)
