"""The pôle's pure rules: its calendar, Compagnon's explanations, passwords, and how the replay
reads the pôle's events into each FSE's timeline."""

from __future__ import annotations

from datetime import date

import pytest

from fseflow.contracts.cti.v1.classification_pb2 import Reason
from fseflow.contracts.pointage.v1.pointage_pb2 import (
    AccordsValidated,
    DocumentMatched,
    FseDelivered,
    FseReplaced,
    LitigieuseDecided,
    PaymentLine,
    PaymentMade,
    ValidatedFse,
)
from fseflow.topics import by_name, caisse_topic, caisse_topics, check_organism
from fseflow.vocabulary.verdicts import reason_name
from fseflow_tools.replay.results import PoleView
from pointage.adapters.events import VALIDATED_PER_RECORD, PoleEvents
from pointage.domain import compagnon, timeline
from pointage.domain.passwords import hash_password, verify_password

D = date


@pytest.mark.parametrize(
    ("checked_on", "delivered_on"),
    [
        (D(2026, 5, 19), D(2026, 5, 20)),  # Tuesday -> Wednesday
        (D(2026, 5, 22), D(2026, 5, 26)),  # Friday -> Tuesday: Whit Monday 25 May
        (D(2026, 7, 13), D(2026, 7, 15)),  # Monday -> Wednesday: 14 July
        (D(2026, 11, 10), D(2026, 11, 12)),  # Tuesday -> Thursday: 11 November
        (D(2026, 12, 31), D(2027, 1, 4)),  # New Year's Day is a Friday
    ],
)
def test_delivery_is_the_next_business_day(checked_on: date, delivered_on: date) -> None:
    assert timeline.delivery_day(checked_on) == delivered_on


@pytest.mark.parametrize(
    ("validated_on", "paid_on"),
    [
        (D(2026, 3, 3), D(2026, 3, 9)),  # the contract's example: Saturday 7 -> Monday 9
        (D(2026, 5, 20), D(2026, 5, 26)),  # Sunday 24, Whit Monday 25 -> Tuesday 26
        (D(2026, 5, 21), D(2026, 5, 26)),  # lands on Whit Monday -> Tuesday
        (D(2026, 7, 10), D(2026, 7, 15)),  # lands on 14 July -> Wednesday 15
        (D(2026, 11, 7), D(2026, 11, 12)),  # lands on 11 November -> Thursday 12
        (D(2026, 11, 5), D(2026, 11, 9)),  # Monday: a business day, paid that day
    ],
)
def test_accords_are_paid_four_calendar_days_after_validation(validated_on: date, paid_on: date) -> None:
    assert timeline.payment_day(validated_on, paper=False, received_on=validated_on) == paid_on


def test_paper_sheets_are_paid_twenty_days_after_receipt_never_before_validation_plus_four() -> None:
    # Received Friday 22 May, validated Tuesday 26: 22 + 20 = Thursday 11 June.
    assert timeline.payment_day(D(2026, 5, 26), paper=True, received_on=D(2026, 5, 22)) == D(2026, 6, 11)
    # Received 24 June: + 20 = 14 July -> 15 July.
    assert timeline.payment_day(D(2026, 6, 25), paper=True, received_on=D(2026, 6, 24)) == D(2026, 7, 15)
    # A paper litigieuse decided long after receipt: paid decision + 4, not in the past.
    assert timeline.payment_day(D(2026, 9, 1), paper=True, received_on=D(2026, 6, 24)) == D(2026, 9, 7)


@pytest.mark.parametrize(
    ("fse_on", "document_on", "matched_on"),
    [
        (D(2026, 5, 21), D(2026, 5, 19), D(2026, 5, 22)),  # document first
        (D(2026, 5, 20), D(2026, 5, 20), D(2026, 5, 21)),  # together
        (D(2026, 5, 19), D(2026, 5, 22), D(2026, 5, 26)),  # document after, over Whit Monday
    ],
)
def test_a_document_is_matched_the_business_day_after_both_are_known(
    fse_on: date, document_on: date, matched_on: date
) -> None:
    assert timeline.match_day(fse_on, document_on) == matched_on


def test_costs_per_sheet() -> None:
    assert timeline.cost_cents(paper=True) == 174
    assert timeline.cost_cents(paper=False) == 27


def test_compagnon_explains_every_reason_of_the_classification_table() -> None:
    names = {reason_name(value) for value in Reason.values() if value != Reason.REASON_UNSPECIFIED}
    assert set(compagnon.EXPLANATIONS) == names
    for reason, text in compagnon.EXPLANATIONS.items():
        assert 40 < len(text) < 300, reason  # short, and says something


def test_a_rejet_notice_names_the_fse_and_explains_each_reason() -> None:
    text = compagnon.rejet_notice("fse-9", ["NIR_KEY", "DUPLICATE"])
    assert "fse-9" in text
    assert compagnon.EXPLANATIONS["NIR_KEY"] in text and compagnon.EXPLANATIONS["DUPLICATE"] in text
    assert "corrigée" in text
    decided = compagnon.decided_rejet_notice("fse-9", ["PRESCRIBER_UNKNOWN"], "t-33-01")
    assert "t-33-01" in decided and compagnon.EXPLANATIONS["PRESCRIBER_UNKNOWN"] in decided


def test_passwords_are_salted_and_checked() -> None:
    stored = hash_password("correct horse")
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "plain-text")
    with pytest.raises(ValueError, match="password"):
        hash_password("short")


def test_each_organism_has_its_own_topic_family() -> None:
    names = [spec.name for spec in caisse_topics("01-331")]
    kinds = ("fse", "decisions", "payments", "pointage", "notices", "relances")
    assert names == [f"caisse.01-331.{k}" for k in kinds]
    assert [spec.writer for spec in caisse_topics("01-331")] == ["pointage"] * 5 + ["relances"]
    assert by_name("caisse.01-401.payments") == caisse_topic("01-401", "payments")
    decisions = caisse_topic("01-331", "decisions").accepts()
    assert {"fseflow.pointage.v1.LitigieuseDecided", "fseflow.pointage.v1.FseReplaced"} <= set(decisions)
    for bad in ("1-331", "01-33", "01_331", "../x"):
        with pytest.raises(ValueError, match="RR-CCC"):
            check_organism(bad)


def test_a_big_validation_is_split_into_records_with_stable_ids() -> None:
    from fseflow.topics import TopicNames

    events = PoleEvents(TopicNames())
    fse = [(f"f-{i:06d}", "2026-03-09") for i in range(VALIDATED_PER_RECORD * 2 + 1)]
    records = events.validated("w", "01-331", "2026-03-03", "automatic", fse)
    assert len(records) == 3
    again = events.validated("w", "01-331", "2026-03-03", "automatic", list(reversed(fse)))
    assert [r.headers for r in records] == [r.headers for r in again]  # same ids, whatever the order
    assert sum(len(AccordsValidated.FromString(r.value).fse) for r in records) == len(fse)


def test_the_replay_reads_each_fse_timeline_from_the_pole_events() -> None:
    w = "w"
    view = PoleView.of(
        [
            FseDelivered(world=w, fse_id="a", delivered_on="2026-03-03", classification="accord"),
            FseDelivered(world=w, fse_id="r", delivered_on="2026-03-03", classification="rejet"),
            FseDelivered(world=w, fse_id="l", delivered_on="2026-03-03", classification="litigieuse"),
            FseDelivered(world=w, fse_id="p", delivered_on="2026-03-03", classification="litigieuse"),
            AccordsValidated(
                world=w, validated_on="2026-03-03", fse=[ValidatedFse(fse_id="a", pay_on="2026-03-09")]
            ),
            LitigieuseDecided(world=w, fse_id="l", outcome="rejet", decided_on="2026-03-04", technician="t"),
            FseReplaced(world=w, fse_id="r", replaced_by="r2", replaced_on="2026-03-06"),
            PaymentMade(
                world=w, ps_id="ps", paid_on="2026-03-09", lines=[PaymentLine(fse_id="a", amount_cents=100)]
            ),
            DocumentMatched(world=w, fse_id="a", document_id="d2", matched_on="2026-03-05"),
            DocumentMatched(world=w, fse_id="a", document_id="d1", matched_on="2026-03-04"),
        ]
    )
    a = view.timeline("a", "accord")
    assert (a["status"], a["decided_on"], a["paid_on"], a["document_matched_on"]) == (
        "paid",
        "2026-03-03",
        "2026-03-09",
        "2026-03-04",  # the first match
    )
    r = view.timeline("r", "rejet")
    assert (r["status"], r["decided_on"], r["replaced_by"]) == ("replaced", "2026-03-03", "r2")
    assert view.timeline("l", "litigieuse")["status"] == "rejected"
    assert view.timeline("p", "litigieuse")["status"] == "pending_review"
    assert view.timeline("unknown", "accord")["delivered_on"] is None
