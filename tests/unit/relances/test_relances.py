"""The relances' pure rules (R13, R22) and the pôle's offsets."""

from __future__ import annotations

from datetime import date

import pytest

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, Fse
from fseflow.vocabulary.calendar import previous_business_day
from pointage.domain.documents import needs_document
from pointage.domain.recoveries import Offset, OpenRecovery, settle
from pointage.domain.recoveries import notice_text as recovery_notice
from relances.domain import aids, deadlines, notices
from relances.domain.deadlines import Step

D = date
J0 = D(2026, 3, 9)


def test_the_steps_fall_on_the_contract_days_moved_off_weekends_and_holidays() -> None:
    assert deadlines.due_day(J0, Step.OVERDUE) == D(2026, 4, 8)
    assert deadlines.due_day(J0, Step.REMINDER) == D(2026, 4, 23)
    # J75 = Saturday 23 May; Monday 25 is Whit Monday.
    assert deadlines.due_day(J0, Step.INDU) == D(2026, 5, 26)
    assert deadlines.recovery_day(J0) == D(2026, 7, 22)
    # Paid Friday 5 June: J45 = Monday 20 July, J30 = Sunday 5 July -> Monday 6.
    assert deadlines.due_day(D(2026, 6, 5), Step.OVERDUE) == D(2026, 7, 6)
    # Paid 30 May: J45 = 14 July -> Wednesday 15.
    assert deadlines.due_day(D(2026, 5, 30), Step.REMINDER) == D(2026, 7, 15)


@pytest.mark.parametrize(
    ("step", "matched_on", "fired", "next_step"),
    [
        (Step.OVERDUE, None, Step.OVERDUE, Step.REMINDER),
        (Step.OVERDUE, D(2026, 4, 8), None, None),  # matched on the step's day: in time
        (Step.REMINDER, D(2026, 4, 9), None, None),  # matched after J30, before J45
        (Step.REMINDER, D(2026, 4, 24), Step.REMINDER, Step.INDU),  # matched after: too late
        (Step.INDU, None, Step.INDU, None),  # the recovery is ordered
    ],
)
def test_a_step_fires_unless_the_document_was_matched_by_its_day(
    step: Step, matched_on: date | None, fired: Step | None, next_step: Step | None
) -> None:
    due = deadlines.due_day(J0, step)
    firing = deadlines.fire(step, due, J0, matched_on)
    assert (firing.fired, firing.next_step) == (fired, next_step)
    if next_step is not None:
        assert firing.next_due == deadlines.due_day(J0, next_step)


def test_hospital_stays_learned_within_365_days_only() -> None:
    act = D(2026, 3, 10)
    assert deadlines.hospital_indu_applies(act, D(2026, 9, 26))
    assert deadlines.hospital_indu_applies(act, D(2027, 3, 10))  # day 365
    assert not deadlines.hospital_indu_applies(act, D(2027, 3, 11))  # day 366
    # Known Saturday 26 September: indu Monday 28; recovered from 25 November.
    assert deadlines.hospital_days(D(2026, 9, 26)) == (D(2026, 9, 28), D(2026, 11, 25))
    assert previous_business_day(D(2026, 9, 28)) == D(2026, 9, 25)


def test_aids() -> None:
    assert aids.first_fse_in_world(None, D(2026, 3, 2))
    assert aids.first_fse_in_world(D(2026, 3, 2), D(2026, 3, 2))
    assert not aids.first_fse_in_world(D(2019, 5, 1), D(2026, 3, 2))
    assert aids.is_first_business_day_of_year(D(2027, 1, 4))  # 1 January 2027 is a Friday
    assert not aids.is_first_business_day_of_year(D(2027, 1, 1))
    assert aids.is_first_business_day_of_year(D(2026, 1, 2))
    assert aids.earns_teletransmission_aid(7, 10)  # exactly 70 %: counted in acts
    assert not aids.earns_teletransmission_aid(69, 100)
    assert not aids.earns_teletransmission_aid(0, 0)


def test_notices_say_which_fse_which_acts_how_much_and_by_when() -> None:
    text = notices.reminder("f-1", ["AMI 4 du 2026-03-02"], 756, J0, D(2026, 5, 26))
    assert all(part in text for part in ("f-1", "AMI 4 du 2026-03-02", "7,56 €", "09/03/2026", "26/05/2026"))
    text = notices.indu("f-1", ["AMI 4 du 2026-03-02"], 756, J0, D(2026, 7, 22))
    assert "7,56 €" in text and "22/07/2026" in text
    text = notices.hospital_indu("f-2", [], 1512, (D(2026, 3, 9), D(2026, 3, 12)), D(2026, 11, 25))
    assert "hospitalisation" in text and "25/11/2026" in text and "15,12 €" in text
    text = recovery_notice(
        Offset("f-1", "document", 189, 2079, 2268), ["AMI 4 du 2026-03-02"], D(2026, 7, 27)
    )
    parts = ("f-1", "AMI 4 du 2026-03-02", "1,89 €", "22,68 €", "20,79 €", "27/07/2026", "27/09/2026")
    assert all(part in text for part in parts)
    last = recovery_notice(Offset("f-1", "document", 567, 0, 2268), [], D(2026, 12, 31))
    assert "soldé" in last and "28/02/2027" in last  # two months after 31 December: end of February


def _owed(
    fse: str, amount: int, applied: int = 0, matched: date | None = None, kind: str = "document"
) -> OpenRecovery:
    return OpenRecovery(fse, kind, amount, applied, D(2026, 7, 22), kind == "document", matched)


def test_a_recovery_larger_than_the_payment_is_carried_over() -> None:
    first = settle(189, [_owed("f-1", 2268)])
    assert [(o.amount_cents, o.remaining_cents) for o in first.offsets] == [(189, 2079)]
    second = settle(1512, [_owed("f-1", 2268, applied=189)])
    assert [(o.amount_cents, o.remaining_cents) for o in second.offsets] == [(1512, 567)]
    third = settle(1512, [_owed("f-1", 2268, applied=1701)])
    assert third.offset_cents == 567 and third.offsets[0].remaining_cents == 0


def test_a_document_matched_by_the_recovery_day_cancels_it_but_not_once_it_started() -> None:
    settlement = settle(5000, [_owed("f-1", 1000, matched=D(2026, 6, 16)), _owed("f-2", 700)])
    assert settlement.cancelled == ["f-1"] and [o.fse_id for o in settlement.offsets] == ["f-2"]
    late = settle(5000, [_owed("f-1", 1000, matched=D(2026, 7, 23))])
    assert late.offset_cents == 1000  # matched after J135: recovered
    started = settle(5000, [_owed("f-1", 1000, applied=300, matched=D(2026, 6, 16))])
    assert started.offset_cents == 700
    hospital = settle(5000, [_owed("f-3", 800, matched=D(2026, 6, 1), kind="hospital")])
    assert hospital.offset_cents == 800  # a document does not cancel a hospital indu


def test_which_fse_wait_for_a_document() -> None:
    ami = ActLine(code="AMI", coefficient="1", performed_on="2026-03-02")
    di = ActLine(code="DI", coefficient="1", performed_on="2026-03-02")
    assert needs_document(Fse(acts=[ami]))
    assert not needs_document(Fse(acts=[ami], suite_de_soins=True))  # R19
    assert not needs_document(Fse(acts=[ami], dsi_sent=True))  # R19: covered by a DSI
    assert needs_document(Fse(acts=[ami, di], dsi_sent=True))  # but a DI needs its prescription
