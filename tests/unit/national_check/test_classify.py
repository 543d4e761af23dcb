"""Every rule of the classification table, the outcome precedence and the amount rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from national_check.domain.claims import Act, Beneficiary, Claim, HospitalStay, Mode
from national_check.domain.classify import MAX_ACT_LINES, Outcome, Reason, Verdict, amount_cents, classify
from national_check.domain.memory import ALWAYS, BatchMemory, decided_counts_from
from national_check.domain.nomenclature import (
    ActDefinition,
    CoefficientRule,
    DailyLimit,
    Nomenclature,
)

NOMENCLATURE = Nomenclature(
    acts={
        "AMI": ActDefinition("AMI", 315, CoefficientRule.parse("1|1.5|2|4")),
        "AIS": ActDefinition("AIS", 265, CoefficientRule.parse("3|4")),
        "DI": ActDefinition("DI", 1000, CoefficientRule.parse("1.2|2.5")),
        "IK": ActDefinition("IK", 35, CoefficientRule.parse("1..300")),
        "IFD": ActDefinition("IFD", 275, CoefficientRule.parse("1")),
    },
    complements={"F": 800, "N": 915, "NP": 1830},
    ais3_limit=DailyLimit("AIS", 300, 4),
)
DAY = date(2026, 3, 2)
NIR, KEY = "2860133063082", "17"
PRESCRIBER = "10003456786"
PATIENT = Beneficiary("01-331", ((date(2020, 1, 1), date(2030, 12, 31)),), ald=False, signature_exempt=False)


def claim(**overrides: Any) -> Claim:
    base = Claim(
        fse_id="fse-1",
        ps_id="ps-1",
        ps_is_replacing=False,
        nir=NIR,
        nir_key=KEY,
        mode=Mode.SECURISE,
        prescriber=PRESCRIBER,
        acts=(Act("AMI", 400, date(2026, 3, 1)),),
        ald=False,
        signature_impossible=False,
        received_on=DAY,
    )
    return base._replace(**overrides)


def verdict(c: Claim | None = None, *, memory: BatchMemory | None = None, **kw: Any) -> Verdict:
    args: dict[str, Any] = {
        "beneficiary": PATIENT,
        "stays": (),
        "prescriber_known": True,
        "nomenclature": NOMENCLATURE,
        "prior": (memory or BatchMemory({}, {})).view("w", (c or claim()).received_on),
    }
    args.update(kw)
    return classify(c or claim(), **args)


def test_clean_fse_is_accord_with_no_reason() -> None:
    v = verdict()
    assert v.outcome is Outcome.ACCORD
    assert v.reasons == ()


@pytest.mark.parametrize(
    ("reason", "the_claim", "extra"),
    [
        (Reason.NIR_KEY, claim(nir_key="18"), {}),
        (Reason.PATIENT_UNKNOWN, claim(), {"beneficiary": None}),
        (Reason.NO_RIGHTS, claim(acts=(Act("AMI", 100, date(2019, 6, 3)),)), {}),
        (Reason.PRESCRIBER_INVALID, claim(prescriber="10003456787"), {}),
        (Reason.PRESCRIBER_UNKNOWN, claim(), {"prescriber_known": False}),
        (Reason.ACT_CODE_UNKNOWN, claim(acts=(Act("AMY", 100, date(2026, 3, 1)),)), {}),
        (Reason.COEF_INVALID, claim(acts=(Act("AMI", 700, date(2026, 3, 1)),)), {}),
        (Reason.ACT_IN_FUTURE, claim(acts=(Act("AMI", 100, date(2026, 3, 3)),)), {}),
        (Reason.REPLACEMENT_MODE, claim(ps_is_replacing=True, mode=Mode.SECURISE), {}),
        (Reason.REPLACEMENT_MODE, claim(ps_is_replacing=True, mode=Mode.DEGRADE), {}),
        (
            Reason.TOO_MANY_LINES,
            claim(mode=Mode.PAPIER, acts=tuple(Act("AMI", 100, date(2026, 2, d)) for d in range(1, 8))),
            {},
        ),
        (Reason.ALD_NOT_ELIGIBLE, claim(ald=True), {}),
        (
            Reason.DURING_HOSPITAL_STAY,
            claim(),
            {"stays": (HospitalStay(date(2026, 2, 27), date(2026, 3, 1), date(2026, 3, 2)),)},
        ),
        (Reason.AIS3_DAILY_LIMIT, claim(acts=tuple(Act("AIS", 300, date(2026, 3, 1)) for _ in range(5))), {}),
        (Reason.SIGNATURE_NOT_EXEMPT, claim(signature_impossible=True), {}),
        (
            Reason.DI_WITHOUT_PRESCRIPTION,
            claim(prescriber="", acts=(Act("DI", 120, date(2026, 3, 1)),)),
            {},
        ),
    ],
    ids=lambda v: v.value if isinstance(v, Reason) else "",
)
def test_each_reason_alone_gives_its_outcome(reason: Reason, the_claim: Claim, extra: dict[str, Any]) -> None:
    v = verdict(the_claim, **extra)
    assert v.reasons == (reason,)
    assert v.outcome is reason.outcome


def test_duplicate_of_an_earlier_accorded_act() -> None:
    memory = BatchMemory({("w", "ps-1", NIR, date(2026, 3, 1), "AMI"): ALWAYS}, {})
    v = verdict(memory=memory)
    assert v.reasons == (Reason.DUPLICATE,)
    assert v.outcome is Outcome.REJET


def test_a_decided_accord_counts_for_duplicates_from_the_day_after_the_decision() -> None:
    decided_on = DAY - timedelta(days=1)
    memory = BatchMemory({("w", "ps-1", NIR, date(2026, 3, 1), "AMI"): decided_counts_from(decided_on)}, {})
    assert verdict(claim(received_on=decided_on), memory=memory).outcome is Outcome.ACCORD
    assert verdict(claim(received_on=DAY), memory=memory).reasons == (Reason.DUPLICATE,)


def test_same_act_by_another_professional_is_not_a_duplicate() -> None:
    memory = BatchMemory({("w", "ps-2", NIR, date(2026, 3, 1), "AMI"): ALWAYS}, {})
    assert verdict(memory=memory).outcome is Outcome.ACCORD


def test_paper_sheet_with_six_lines_is_fine_and_replacing_nurse_may_bill_on_paper() -> None:
    acts = tuple(Act("AMI", 100, date(2026, 2, d)) for d in range(1, 7))
    assert verdict(claim(mode=Mode.PAPIER, acts=acts, ps_is_replacing=True)).outcome is Outcome.ACCORD


def test_rejet_wins_over_litigieuse_and_every_reason_is_listed_in_contract_order() -> None:
    v = verdict(claim(nir_key="18", signature_impossible=True, ald=True), prescriber_known=False)
    assert v.outcome is Outcome.REJET
    assert v.reasons == (
        Reason.NIR_KEY,
        Reason.PRESCRIBER_UNKNOWN,
        Reason.ALD_NOT_ELIGIBLE,
        Reason.SIGNATURE_NOT_EXEMPT,
    )


def test_litigieuse_reasons_alone_give_litigieuse() -> None:
    v = verdict(claim(ald=True, signature_impossible=True))
    assert v.outcome is Outcome.LITIGIEUSE
    assert v.reasons == (Reason.ALD_NOT_ELIGIBLE, Reason.SIGNATURE_NOT_EXEMPT)


def test_hospital_stay_counts_only_from_the_day_it_is_known() -> None:
    stay = HospitalStay(date(2026, 2, 27), date(2026, 3, 1), known_on=date(2026, 9, 20))
    assert verdict(stays=(stay,)).outcome is Outcome.ACCORD


@pytest.mark.parametrize("act_day", [date(2026, 2, 27), date(2026, 3, 1)])
def test_hospital_stay_bounds_are_inclusive(act_day: date) -> None:
    stay = HospitalStay(date(2026, 2, 27), date(2026, 3, 1), known_on=date(2026, 1, 1))
    v = verdict(claim(acts=(Act("AMI", 100, act_day),)), stays=(stay,))
    assert Reason.DURING_HOSPITAL_STAY in v.reasons


def test_patient_dependent_checks_are_skipped_for_an_unknown_patient() -> None:
    v = verdict(claim(ald=True, signature_impossible=True), beneficiary=None)
    assert v.reasons == (Reason.PATIENT_UNKNOWN,)


def test_prescriber_may_be_absent_outside_di() -> None:
    assert verdict(claim(prescriber="")).outcome is Outcome.ACCORD


def test_ais3_counts_every_earlier_fse_of_the_patient_that_day() -> None:
    memory = BatchMemory({}, {})
    day = date(2026, 3, 1)
    outcomes = []
    for n in range(3):
        two_ais3 = claim(
            fse_id=f"fse-{n}", ps_id=f"ps-{n}", acts=(Act("AIS", 300, day), Act("AIS", 300, day))
        )
        v = verdict(two_ais3, memory=memory)
        memory.add_ais3("w", NIR, v.ais3_by_day)
        outcomes.append(v.outcome)
    # 2, then 4 (the limit), then 6: only the FSE that goes over the limit is flagged.
    assert outcomes == [Outcome.ACCORD, Outcome.ACCORD, Outcome.LITIGIEUSE]


def test_ais3_of_a_rejected_fse_does_not_count() -> None:
    memory = BatchMemory({}, {})
    day = date(2026, 3, 1)
    four = tuple(Act("AIS", 300, day) for _ in range(4))
    rejected = verdict(claim(acts=four, nir_key="18"), memory=memory)
    memory.add_ais3("w", NIR, rejected.ais3_by_day)
    assert rejected.outcome is Outcome.REJET
    assert verdict(claim(acts=four), memory=memory).outcome is Outcome.ACCORD


def test_ais4_and_other_days_are_not_counted_as_ais3() -> None:
    memory = BatchMemory({}, {("w", NIR, date(2026, 3, 1)): 4})
    other = (Act("AIS", 400, date(2026, 3, 1)), Act("AIS", 300, date(2026, 2, 28)))
    assert verdict(claim(acts=other), memory=memory).outcome is Outcome.ACCORD


def test_an_ais3_act_the_same_day_as_another_fse_ais3_is_never_a_duplicate() -> None:
    # The clarified contract: counted by AIS3_DAILY_LIMIT only, even from the same professional.
    memory = BatchMemory({}, {})
    day = date(2026, 3, 1)
    outcomes = []
    for n in range(3):
        two_ais3 = claim(fse_id=f"fse-{n}", acts=(Act("AIS", 300, day), Act("AIS", 300, day)))
        v = verdict(two_ais3, memory=memory)
        memory.add_ais3("w", NIR, v.ais3_by_day)
        memory.add_accorded("w", "ps-1", NIR, v.accorded_acts)
        outcomes.append(v.reasons)
    assert outcomes == [(), (), (Reason.AIS3_DAILY_LIMIT,)]


def test_other_acts_of_the_same_professional_that_day_are_still_duplicates() -> None:
    memory = BatchMemory({}, {})
    first = verdict(claim(acts=(Act("AMI", 400, date(2026, 3, 1)), Act("AIS", 400, date(2026, 3, 1)))))
    memory.add_accorded("w", "ps-1", NIR, first.accorded_acts)
    again = claim(fse_id="fse-2", acts=(Act("AIS", 400, date(2026, 3, 1)),))
    assert verdict(again, memory=memory).reasons == (Reason.DUPLICATE,)  # AIS 4 is not limited


def test_identical_lines_on_one_day_are_a_duplicate_line() -> None:
    day = date(2026, 3, 1)
    v = verdict(claim(acts=(Act("AMI", 400, day), Act("IFD", 100, day), Act("AMI", 400, day))))
    assert (v.outcome, v.reasons) == (Outcome.REJET, (Reason.DUPLICATE_LINE,))


def test_different_coefficients_or_days_are_different_lines() -> None:
    acts = (
        Act("AMI", 100, date(2026, 3, 1)),
        Act("AMI", 400, date(2026, 3, 1)),  # a second act of the same visit (NGAP art. 11B)
        Act("AMI", 100, date(2026, 2, 28)),
    )
    assert verdict(claim(acts=acts)).outcome is Outcome.ACCORD


def test_identical_ais3_lines_up_to_the_daily_limit_are_not_duplicate_lines() -> None:
    day = date(2026, 3, 1)
    assert verdict(claim(acts=tuple(Act("AIS", 300, day) for _ in range(4)))).outcome is Outcome.ACCORD
    five = verdict(claim(acts=tuple(Act("AIS", 300, day) for _ in range(5))))
    assert five.reasons == (Reason.AIS3_DAILY_LIMIT,)  # over the limit: counted, not a duplicate


def test_too_many_act_lines_on_any_sheet() -> None:
    last = date(2026, 3, 1)
    distinct = tuple(Act(code, 100, last - timedelta(days=d)) for d in range(126) for code in ("AMI", "IFD"))
    assert len(distinct) == MAX_ACT_LINES + 2
    v = verdict(claim(acts=distinct))
    assert (v.outcome, v.reasons) == (Outcome.REJET, (Reason.TOO_MANY_ACTS,))
    assert verdict(claim(acts=distinct[:MAX_ACT_LINES])).outcome is Outcome.ACCORD


def test_ten_thousand_identical_lines_are_not_paid() -> None:
    # Seen by a tester: classified accord and priced 18,900 EUR.
    v = verdict(claim(acts=tuple(Act("AMI", 100, date(2026, 3, 1)) for _ in range(10_000))))
    assert v.outcome is Outcome.REJET
    assert v.reasons == (Reason.TOO_MANY_ACTS, Reason.DUPLICATE_LINE)
    assert v.accorded_acts == ()


def test_full_width_nir_fails_the_key_check() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in NIR)  # "２８６０…"
    assert verdict(claim(nir=full_width)).reasons == (Reason.NIR_KEY,)


def test_only_accords_feed_the_duplicate_memory() -> None:
    assert verdict().accorded_acts == claim().acts
    assert verdict(claim(ald=True)).accorded_acts == ()


def test_coefficient_rules() -> None:
    assert CoefficientRule.parse("1..300").allows(12_00)
    assert not CoefficientRule.parse("1..300").allows(12_50)
    assert not CoefficientRule.parse("1..300").allows(301_00)
    assert CoefficientRule.parse("1|1.25|1.5").allows(125)
    assert not CoefficientRule.parse("1|1.25|1.5").allows(175)


class TestAmount:
    def test_contract_example_ami4_sunday(self) -> None:
        # (3.15 x 4 + 8.00) x 60 % = 12.36
        assert amount_cents((Act("AMI", 400, date(2026, 3, 1), ("F",)),), NOMENCLATURE, 60) == 1236

    def test_ald_exoneration_pays_100_percent_when_it_holds(self) -> None:
        ald_patient = PATIENT._replace(ald=True)
        assert verdict(claim(ald=True), beneficiary=ald_patient).amount_cents == 1260
        assert verdict(claim(ald=True)).amount_cents == 756  # claimed, not held: 60 %

    def test_complements_and_travel_add_up(self) -> None:
        acts = (
            Act("AIS", 300, date(2026, 3, 1), ("N",)),
            Act("IFD", 100, date(2026, 3, 1)),
            Act("IK", 1200, date(2026, 3, 1), ("NP",)),
        )
        # 2.65x3 + 9.15 + 2.75 + 0.35x12 + 18.30 = 42.35 -> x 60 % = 25.41
        assert amount_cents(acts, NOMENCLATURE, 60) == 2541

    def test_rounding_half_up_to_the_cent(self) -> None:
        # AMI 1.5 = 4.725 -> x 60 % = 2.835 -> 2.84
        assert amount_cents((Act("AMI", 150, date(2026, 3, 1)),), NOMENCLATURE, 60) == 284

    def test_unknown_code_counts_for_nothing(self) -> None:
        assert amount_cents((Act("AMY", 100, date(2026, 3, 1)),), NOMENCLATURE, 60) == 0
