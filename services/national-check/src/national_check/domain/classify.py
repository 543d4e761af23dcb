"""Classify one FSE: every check runs; rejet if any rejet reason holds, else litigieuse if any
litigieuse reason holds, else accord. All reasons that hold are listed, in the contract's order,
then this project's own reasons (docs/scenario-contract.md, "How fseflow reads it").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from national_check.domain.claims import Act, Beneficiary, Claim, HospitalStay, Mode, PriorClaims
from national_check.domain.identifiers import nir_key_matches, rpps_valid
from national_check.domain.nomenclature import Nomenclature


class Outcome(StrEnum):
    ACCORD = "accord"
    REJET = "rejet"
    LITIGIEUSE = "litigieuse"


class Reason(StrEnum):
    """The contract's classification table, in its order; each with the outcome it forces."""

    NIR_KEY = "NIR_KEY"
    PATIENT_UNKNOWN = "PATIENT_UNKNOWN"
    NO_RIGHTS = "NO_RIGHTS"
    PRESCRIBER_INVALID = "PRESCRIBER_INVALID"
    PRESCRIBER_UNKNOWN = "PRESCRIBER_UNKNOWN"
    ACT_CODE_UNKNOWN = "ACT_CODE_UNKNOWN"
    COEF_INVALID = "COEF_INVALID"
    ACT_IN_FUTURE = "ACT_IN_FUTURE"
    REPLACEMENT_MODE = "REPLACEMENT_MODE"
    DUPLICATE = "DUPLICATE"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    ALD_NOT_ELIGIBLE = "ALD_NOT_ELIGIBLE"
    DURING_HOSPITAL_STAY = "DURING_HOSPITAL_STAY"
    AIS3_DAILY_LIMIT = "AIS3_DAILY_LIMIT"
    SIGNATURE_NOT_EXEMPT = "SIGNATURE_NOT_EXEMPT"
    DI_WITHOUT_PRESCRIPTION = "DI_WITHOUT_PRESCRIPTION"
    # This project's, after the contract's table (docs/decisions.md D36).
    TOO_MANY_ACTS = "TOO_MANY_ACTS"
    DUPLICATE_LINE = "DUPLICATE_LINE"

    @property
    def outcome(self) -> Outcome:
        return Outcome.LITIGIEUSE if self in _LITIGIEUSE else Outcome.REJET


_LITIGIEUSE = frozenset(
    {
        Reason.PRESCRIBER_UNKNOWN,
        Reason.ALD_NOT_ELIGIBLE,
        Reason.DURING_HOSPITAL_STAY,
        Reason.AIS3_DAILY_LIMIT,
        Reason.SIGNATURE_NOT_EXEMPT,
        Reason.DI_WITHOUT_PRESCRIPTION,
    }
)
_ORDER = {reason: i for i, reason in enumerate(Reason)}
MAX_PAPER_LINES = 6  # R24: a paper sheet holds at most six act lines
# Any sheet: a month of daily care at the densest day the nomenclature allows (four AIS 3,
# travel IFD and IK, a majoration, a DI: 8 lines) is 31 x 8 = 248 lines (D36).
MAX_ACT_LINES = 250
DI_CODE = "DI"
BASE_RATE = 60
ALD_RATE = 100


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    amount_cents: int
    # Effects on the cross-FSE state, applied by the caller.
    ais3_by_day: tuple[tuple[date, int], ...]
    accorded_acts: tuple[Act, ...]


def amount_cents(acts: Sequence[Act], nomenclature: Nomenclature, rate_percent: int) -> int:
    """Σ(tariff × coefficient) + complements, × rate, rounded half up to the cent.

    Exact integer arithmetic: tariff cents × coefficient hundredths is in 1/100 cent.
    Acts of unknown codes count for nothing.
    """
    hundredths_of_cents = 0
    for act in acts:
        definition = nomenclature.acts.get(act.code)
        if definition is not None:
            hundredths_of_cents += definition.tariff_cents * act.coefficient
        for complement in act.complements:
            hundredths_of_cents += nomenclature.complements.get(complement, 0) * 100
    return (hundredths_of_cents * rate_percent + 5_000) // 10_000


def classify(
    claim: Claim,
    *,
    beneficiary: Beneficiary | None,
    stays: Sequence[HospitalStay],
    prescriber_known: bool,
    nomenclature: Nomenclature,
    prior: PriorClaims,
) -> Verdict:
    reasons: set[Reason] = set()
    acts = claim.acts

    if not nir_key_matches(claim.nir, claim.nir_key):
        reasons.add(Reason.NIR_KEY)
    if beneficiary is None:
        reasons.add(Reason.PATIENT_UNKNOWN)
    else:
        if any(not beneficiary.has_rights_on(act.on) for act in acts):
            reasons.add(Reason.NO_RIGHTS)
        if claim.ald and not beneficiary.ald:
            reasons.add(Reason.ALD_NOT_ELIGIBLE)
        if claim.signature_impossible and not beneficiary.signature_exempt:
            reasons.add(Reason.SIGNATURE_NOT_EXEMPT)

    if claim.prescriber:
        if not rpps_valid(claim.prescriber):
            reasons.add(Reason.PRESCRIBER_INVALID)
        elif not prescriber_known:
            reasons.add(Reason.PRESCRIBER_UNKNOWN)

    lines: set[tuple[str, int, date]] = set()
    for act in acts:
        definition = nomenclature.acts.get(act.code)
        if definition is None:
            reasons.add(Reason.ACT_CODE_UNKNOWN)
        elif not definition.coefficients.allows(act.coefficient):
            reasons.add(Reason.COEF_INVALID)
        if act.on > claim.received_on:
            reasons.add(Reason.ACT_IN_FUTURE)
        # An act the nomenclature allows several times a day (AIS 3) is counted by
        # AIS3_DAILY_LIMIT only: never a DUPLICATE of another FSE's, nor of another line's.
        if not nomenclature.is_limited(act.code, act.coefficient):
            if prior.accorded(claim.ps_id, claim.nir, act.on, act.code):
                reasons.add(Reason.DUPLICATE)
            line = (act.code, act.coefficient, act.on)
            if line in lines:
                reasons.add(Reason.DUPLICATE_LINE)
            lines.add(line)
        if act.code == DI_CODE and not claim.prescriber:
            reasons.add(Reason.DI_WITHOUT_PRESCRIPTION)
        if stays and any(stay.known_on <= claim.received_on and stay.covers(act.on) for stay in stays):
            reasons.add(Reason.DURING_HOSPITAL_STAY)

    if claim.ps_is_replacing and claim.mode in (Mode.SECURISE, Mode.DEGRADE):
        reasons.add(Reason.REPLACEMENT_MODE)
    if claim.mode is Mode.PAPIER and len(acts) > MAX_PAPER_LINES:
        reasons.add(Reason.TOO_MANY_LINES)
    if len(acts) > MAX_ACT_LINES:
        reasons.add(Reason.TOO_MANY_ACTS)

    limit = nomenclature.ais3_limit
    ais3_days = [act.on for act in acts if act.code == limit.code and act.coefficient == limit.coefficient]
    ais3 = Counter(ais3_days) if ais3_days else Counter[date]()
    if any(prior.ais3_count(claim.nir, day) + count > limit.per_patient for day, count in ais3.items()):
        reasons.add(Reason.AIS3_DAILY_LIMIT)

    ordered = tuple(sorted(reasons, key=_ORDER.__getitem__))
    if any(r.outcome is Outcome.REJET for r in ordered):
        outcome = Outcome.REJET
    elif ordered:
        outcome = Outcome.LITIGIEUSE
    else:
        outcome = Outcome.ACCORD

    exonerated = claim.ald and beneficiary is not None and beneficiary.ald
    return Verdict(
        outcome=outcome,
        reasons=ordered,
        amount_cents=amount_cents(acts, nomenclature, ALD_RATE if exonerated else BASE_RATE),
        # A rejected sheet is not paid and will be replaced by its correction: it does not count.
        ais3_by_day=tuple(sorted(ais3.items())) if outcome is not Outcome.REJET else (),
        accorded_acts=acts if outcome is Outcome.ACCORD else (),
    )
