"""Fuzzing ingest's edge and national-check's reading, without a stack (many cases, fast).

Every malformed lot is refused with INVALID_ARGUMENT naming exactly its transport defects, or a
negative ARL naming at least its contract defects; every lot the edge accepts is read and
classified by the national check without an error (ingest and national-check agree on what is
well formed); nothing a client sends makes either raise.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, Fse
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived, SubmitDocumentRequest, SubmitLotRequest
from ingest.domain import limits
from ingest.domain.request_bounds import lot_violations
from ingest.domain.validation import coefficient_hundredths
from ingest.entrypoints.grpc import Unreadable, tolerant
from national_check.adapters.events import MalformedEvent, to_claim
from national_check.domain.classify import MAX_ACT_LINES, Outcome, Reason, classify
from national_check.domain.identifiers import nir_key_matches
from national_check.domain.memory import BatchMemory
from tests.fuzzing import (
    Case,
    counted,
    edge_answer,
    fuzz_settings,
    mutated_lots,
    resolves,
    valid_sheet,
)
from tests.unit.national_check.test_classify import NOMENCLATURE, PATIENT


def _verdict_of(event: FseReceived) -> tuple[Outcome, tuple[Reason, ...]]:
    claim = to_claim(event)
    verdict = classify(
        claim,
        beneficiary=PATIENT,
        stays=(),
        prescriber_known=True,
        nomenclature=NOMENCLATURE,
        prior=BatchMemory({}, {}).view(event.world, claim.received_on),
    )
    assert verdict.amount_cents >= 0
    return verdict.outcome, verdict.reasons


@fuzz_settings()
@given(mutated_lots())
@counted
def test_each_malformed_lot_gets_the_refusal_that_names_its_fields(case: Case) -> None:
    request = case.request
    answer = edge_answer(request)
    named = answer.invalid or answer.problems
    assert all(resolves(request, path) for path in named), named
    if case.transport:
        assert set(answer.invalid) == case.transport
        return
    assert answer.invalid == ()
    assert case.contract <= set(answer.problems), (case.contract, answer.problems)
    if not case.contract:
        assert answer.problems == ()
        # Accepted: the national check reads and classifies every FSE (no dead letter).
        for sheet in request.lot.fse:
            event = FseReceived(world="w", lot_id="lot", ps_id="ps-1", received_on="2026-03-02", fse=sheet)
            outcome, reasons = _verdict_of(event)
            if not nir_key_matches(sheet.nir, sheet.nir_key):
                assert Reason.NIR_KEY in reasons and outcome is Outcome.REJET


def _scripts(ascii_digits: str) -> list[str]:
    """The same digits in the scripts str.isdigit() takes: full-width, Arabic-Indic, mixed."""
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ascii_digits)
    arabic = ascii_digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return [ascii_digits, full_width, arabic, full_width[:1] + ascii_digits[1:], ascii_digits[:-1] + "²"]


# Values a professional's software could send in any field: right, wrong, in other scripts,
# with control characters; a generated text now and then.
POOL = [
    "",
    "AMI",
    "AIS",
    "3",
    "1.5",
    "2026-03-01",
    "２０２６-03-01",
    "\x00",
    "A\nB",
    "\u200b",
    "é",
    *_scripts("2860133063082"),
    *_scripts("17"),
    *_scripts("10003456786"),
    *_scripts("4"),
]
ANY_TEXT = st.one_of(st.sampled_from(POOL), st.text(max_size=8))


@st.composite
def received_events(draw: st.DrawFn) -> FseReceived:
    line = st.builds(
        ActLine,
        code=ANY_TEXT,
        coefficient=ANY_TEXT,
        performed_on=st.one_of(st.sampled_from(["2026-03-01", "2026-02-27", "2027-01-01"]), ANY_TEXT),
        complements=st.lists(ANY_TEXT, max_size=3),
    )
    acts = draw(st.lists(line, max_size=5))
    repeat = draw(st.sampled_from([1, 1, 2, MAX_ACT_LINES + 1]))  # identical lines, too many lines
    acts *= repeat
    sheet = Fse(
        fse_id=draw(ANY_TEXT),
        nir=draw(ANY_TEXT),
        nir_key=draw(ANY_TEXT),
        mode=draw(st.integers(-1, 5)),  # type: ignore[arg-type]
        prescriber=draw(ANY_TEXT),
        acts=acts,
    )
    received_on = draw(st.one_of(st.just("2026-03-02"), ANY_TEXT))
    return FseReceived(world="w", lot_id="lot", ps_id="ps-1", received_on=received_on, fse=sheet)


@fuzz_settings()
@given(received_events())
@counted
def test_national_check_reads_any_value_or_says_it_is_malformed(event: FseReceived) -> None:
    try:
        outcome, reasons = _verdict_of(event)
    except MalformedEvent:
        return  # dead-lettered with its reason, the batch goes on
    fse = event.fse
    # AIS 3 ("3", "3.0", "03"...) is counted by AIS3_DAILY_LIMIT, never a duplicate line.
    lines = [
        (a.code, a.coefficient, a.performed_on)
        for a in fse.acts
        if not (a.code == "AIS" and coefficient_hundredths(a.coefficient) == 300)
    ]
    if len(set(lines)) < len(lines):
        assert Reason.DUPLICATE_LINE in reasons
    if outcome is Outcome.ACCORD:
        # What was paid is made of ASCII digits only, and of at most 250 distinct lines.
        assert fse.nir.isascii() and fse.nir_key.isascii()
        assert fse.prescriber.isascii()
        assert all(a.coefficient.isascii() for a in fse.acts)
        assert len(fse.acts) <= MAX_ACT_LINES
    if not nir_key_matches(fse.nir, fse.nir_key):
        assert Reason.NIR_KEY in reasons


@fuzz_settings()
@given(st.one_of(st.binary(max_size=300), mutated_lots().map(lambda c: c.request.SerializeToString()[:-1])))
@counted
def test_a_body_that_does_not_parse_never_raises(body: bytes) -> None:
    parsed = tolerant(SubmitLotRequest)(body)
    if isinstance(parsed, Unreadable):
        assert str(parsed.error)
    else:
        answer = edge_answer(parsed)
        assert all(resolves(parsed, path) for path in answer.invalid or answer.problems)
    stream_message = tolerant(SubmitDocumentRequest)(body)
    assert isinstance(stream_message, (SubmitDocumentRequest, Unreadable))


@fuzz_settings(share=0.02)
@given(
    sheets=st.sampled_from([1, 2, limits.MAX_FSE_PER_LOT, limits.MAX_FSE_PER_LOT + 1]),
    lines=st.sampled_from([1, 10, limits.MAX_ACTS_PER_FSE, limits.MAX_ACTS_PER_FSE + 1]),
    complements=st.integers(0, limits.MAX_COMPLEMENTS_PER_ACT + 2),
)
@counted
def test_counts_around_the_caps(sheets: int, lines: int, complements: int) -> None:
    lot = [valid_sheet(i, 1) for i in range(sheets)]
    lot[0].acts.extend([ActLine(code="AMI", coefficient="1", performed_on="2026-03-01")] * (lines - 1))
    lot[0].acts[0].complements[:] = ["F", "N", "NP", "F", "N"][:complements]
    lot[0].mode = BillingMode.BILLING_MODE_SECURISE
    request = SubmitLotRequest(world="w", received_on="2026-03-02")
    request.lot.lot_id, request.lot.ps_id = "lot", "ps-1"
    request.lot.fse.extend(lot)
    fields = {v.field for v in lot_violations(request)}
    total = sheets - 1 + lines
    expected = {
        "lot.fse" for over in (sheets > limits.MAX_FSE_PER_LOT, total > limits.MAX_ACTS_PER_LOT) if over
    } | ({"lot.fse[0].acts"} if lines > limits.MAX_ACTS_PER_FSE else set())
    if not expected and complements > limits.MAX_COMPLEMENTS_PER_ACT:
        expected = {"lot.fse[0].acts[0].complements"}
    assert fields == expected
