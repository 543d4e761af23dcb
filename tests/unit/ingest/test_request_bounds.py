"""ingest's edge: the API's documented limits, a body that does not parse, and the status each
failure gets (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE only when transient)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import asyncpg
import grpc
import pytest

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, DocumentRef, Fse, Lot
from fseflow.contracts.cti.v1.ingest_pb2 import (
    Arl,
    ArlError,
    DocumentSubmission,
    FseReceived,
    SubmitLotRequest,
)
from fseflow.kafka.base import DeliveryFailed
from ingest.adapters.scor_client import DocumentRefused
from ingest.domain import arl as arl_text
from ingest.domain import limits
from ingest.domain.request_bounds import describe, lot_violations, submission_violations
from ingest.domain.validation import bounded, validate_lot
from ingest.entrypoints.failures import status_of
from ingest.entrypoints.grpc import Unreadable, tolerant
from ingest.handlers.lots import NoOpenDay, OutOfBounds, RecordTooLarge

README = Path(__file__).parents[3] / "services" / "ingest" / "README.md"


def good_fse(fse_id: str = "fse-1", acts: int = 1) -> Fse:
    return Fse(
        fse_id=fse_id,
        nir="2860133063082",
        nir_key="17",
        mode=BillingMode.BILLING_MODE_SECURISE,
        prescriber="10003456786",
        acts=[ActLine(code="AMI", coefficient="4", performed_on="2026-03-01") for _ in range(acts)],
    )


def request(*fse: Fse, lot_id: str = "lot-1") -> SubmitLotRequest:
    return SubmitLotRequest(
        world="w", received_on="2026-03-02", lot=Lot(lot_id=lot_id, ps_id="ps-1", fse=fse)
    )


def fields(req: SubmitLotRequest) -> list[str]:
    return [v.field for v in lot_violations(req)]


def test_a_good_lot_is_within_bounds() -> None:
    assert lot_violations(request(good_fse(), good_fse("fse-2"))) == []


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ("lot\x00-1", "lot.lot_id", "U+0000"),  # seen: PostgreSQL's error text under UNAVAILABLE
        ("lot-\n1", "lot.lot_id", "U+000A"),
        ("lot\u200b1", "lot.lot_id", "U+200B"),  # a zero-width space
        ("lot\u202e1", "lot.lot_id", "U+202E"),  # a right-to-left override
        ("x" * 102_400, "lot.lot_id", "102400 characters, at most 64"),  # seen: accepted
    ],
)
def test_control_invisible_and_over_long_strings(bad: str, field: str, reason: str) -> None:
    [violation] = lot_violations(request(good_fse(), lot_id=bad))
    assert violation.field == field and reason in violation.reason


def test_every_string_field_is_walked_with_its_path() -> None:
    sheet = good_fse(acts=2)
    sheet.acts[1].code = "AMI\n"  # seen: a newline in an act code was accepted
    sheet.acts[1].complements.append("F\t")
    sheet.document.CopyFrom(DocumentRef(document_id="pj-1", kind="x" * 65))
    sheet.acts[0].coefficient = "1" * 17
    sheet.nir = "\x7f" + sheet.nir[1:]
    assert fields(request(good_fse("a"), sheet)) == [
        "lot.fse[1].nir",
        "lot.fse[1].acts[0].coefficient",
        "lot.fse[1].acts[1].code",
        "lot.fse[1].acts[1].complements[0]",
        "lot.fse[1].document.kind",
    ]


def test_readable_but_wrong_content_is_not_refused_here() -> None:
    # Unicode letters and digits are printable: a full-width NIR reaches the national check,
    # which refuses its key; an unknown code or a malformed date reach the ARL.
    sheet = good_fse()
    sheet.nir = "２８６０１３３０６３０８２"
    sheet.acts[0].code = "AMY é"
    sheet.acts[0].performed_on = "2026-02-30"
    assert lot_violations(request(sheet, lot_id="lot-été")) == []


def test_counts_of_a_lot() -> None:
    too_many_sheets = request(*(good_fse(f"f{i}") for i in range(limits.MAX_FSE_PER_LOT + 1)))
    assert fields(too_many_sheets) == ["lot.fse"]
    assert lot_violations(request(*(good_fse(f"f{i}") for i in range(limits.MAX_FSE_PER_LOT)))) == []
    ten_thousand_lines = request(good_fse(acts=10_000))  # seen: priced 18,900 EUR
    assert fields(ten_thousand_lines) == ["lot.fse", "lot.fse[0].acts"]
    spread = request(*(good_fse(f"f{i}", acts=500) for i in range(20)))
    assert [str(v) for v in lot_violations(spread)] == ["lot.fse: 10000 act lines in the lot, at most 9999"]
    four = good_fse()
    four.acts[0].complements.extend(["F", "N", "NP", "F"])
    assert fields(request(four)) == ["lot.fse[0].acts[0].complements"]


def test_document_submission_fields_are_named_under_metadata() -> None:
    submission = DocumentSubmission(
        world="w", document_id="pj\x001", fse_id="f" * 65, ps_id="ps-1", kind="fsp"
    )
    assert [v.field for v in submission_violations(submission)] == ["metadata.document_id", "metadata.fse_id"]


def test_details_list_the_first_violations_then_count_the_others() -> None:
    sheet = good_fse(acts=30)
    for act in sheet.acts:
        act.code = "\x00"
    details = describe(lot_violations(request(sheet)))
    assert details.startswith("lot.fse[0].acts[0].code: holds U+0000")
    assert details.count("holds U+0000") == limits.MAX_LISTED_VIOLATIONS
    assert details.endswith("; and 10 more")


def test_a_body_that_does_not_parse_is_unreadable_never_an_exception() -> None:
    parse = tolerant(SubmitLotRequest)
    good = request(good_fse())
    assert parse(good.SerializeToString()) == good
    for garbage in (b"\xff\xff\xff", b"\x1a\x05\x0a", b"\x0a\x02\xc3\x28"):  # varint, truncation, bad UTF-8
        assert isinstance(parse(garbage), Unreadable), garbage


def _code(error: BaseException) -> grpc.StatusCode:
    return status_of(error, "lot 'lot-1'")[0]


def test_the_clients_mistakes_are_invalid_argument() -> None:
    violation = lot_violations(request(good_fse(), lot_id="a\x00"))
    code, details = status_of(OutOfBounds(violation), "lot 'a'")
    assert (code, details) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "lot.lot_id: holds U+0000, a control or invisible character",
    )
    assert _code(DocumentRefused("content: not a PDF")) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(NoOpenDay("world 'w': no day closed")) == grpc.StatusCode.FAILED_PRECONDITION


def test_over_size_is_resource_exhausted_never_unavailable() -> None:
    seen = 'KafkaError{code=MSG_SIZE_TOO_LARGE,val=10,str="Message size too large"}'
    for error in (
        DeliveryFailed(seen),
        DeliveryFailed("[Error 10] MessageSizeTooLargeError"),
        RecordTooLarge("x"),
    ):
        code, details = status_of(error, "lot 'lot-1'")
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "resend" not in details and "MSG_SIZE" not in details


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
        TimeoutError(),
        DeliveryFailed("KafkaError{code=_MSG_TIMED_OUT,val=-192}"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_faults_are_unavailable_with_a_generic_message(error: BaseException) -> None:
    code, details = status_of(error, "lot 'lot-1'")
    assert code == grpc.StatusCode.UNAVAILABLE
    assert "resend it" in details and re.search(r"reference [0-9a-f]{12}", details)
    assert str(error) not in details or not str(error)


def test_a_fault_of_ours_is_internal_without_its_text() -> None:
    error = asyncpg.exceptions.CharacterNotInRepertoireError(
        'invalid byte sequence for encoding "UTF8": 0x00'
    )
    code, details = status_of(error, "lot 'lot-1'")
    assert code == grpc.StatusCode.INTERNAL
    assert "UTF8" not in details and "resend" not in details


def test_the_largest_records_the_limits_allow_fit_the_broker() -> None:
    wide = "\U0001d7d8" * limits.MAX_TEXT_CHARS  # a printable 4-byte character, 64 times
    narrow = wide[: limits.MAX_ACT_TEXT_CHARS]
    complements = [narrow] * limits.MAX_COMPLEMENTS_PER_ACT
    sheet = Fse(
        fse_id=wide,
        nir=wide,
        nir_key=wide,
        prescriber=wide,
        prescribed_on=wide,
        rectifies=wide,
        document=DocumentRef(document_id=wide, kind=wide, quality=wide),
        acts=[ActLine(code=narrow, coefficient=narrow, performed_on=narrow, complements=complements)]
        * limits.MAX_ACTS_PER_FSE,
    )
    event = FseReceived(world=wide, lot_id=wide, ps_id=wide, ps_organism=wide, received_on=wide, fse=sheet)
    headers = 1_024  # ce_* and traceparent headers, the key: a few hundred bytes
    assert event.ByteSize() + headers < limits.MAX_RECORD_BYTES

    lot = request(
        *(Fse(fse_id=f"{i:03d}" + wide[4:], acts=sheet.acts[:10]) for i in range(limits.MAX_FSE_PER_LOT))
    )
    assert lot_violations(lot) == []  # 9,990 act lines, every string at its cap: within the limits
    problems = bounded(validate_lot(lot))
    assert len(problems) == limits.MAX_ARL_PROBLEMS + 1
    arl = Arl(
        world=wide,
        lot_id=wide,
        ps_id=wide,
        errors=[ArlError(code=p.code, field=p.field, message=p.message) for p in problems],
        text=arl_text.negative_text(wide, date(2026, 3, 2), problems),
    )
    assert arl.ByteSize() + headers < limits.MAX_RECORD_BYTES


def test_every_limit_is_documented_in_the_readme() -> None:
    text = README.read_text()
    for name in dir(limits):
        if name.startswith("MAX_"):
            value = getattr(limits, name)
            row = next((line for line in text.splitlines() if f"`{name}`" in line), "")
            assert f"{value:,}" in row, f"{name} = {value:,} is not in services/ingest/README.md"
