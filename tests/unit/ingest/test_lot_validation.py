"""ingest: a lot is refused only when unusable as a whole, with every problem's field path."""

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, DocumentRef, Fse, Lot
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from ingest.domain import arl
from ingest.domain.limits import MAX_ARL_PROBLEMS
from ingest.domain.validation import bounded, coefficient_hundredths, validate_lot


def good_fse(fse_id: str = "fse-1") -> Fse:
    return Fse(
        fse_id=fse_id,
        nir="2860133063082",
        nir_key="17",
        mode=BillingMode.BILLING_MODE_SECURISE,
        acts=[ActLine(code="AMI", coefficient="1.5", performed_on="2026-03-01", complements=["F"])],
    )


def lot(*fse: Fse, **fields: str) -> SubmitLotRequest:
    return SubmitLotRequest(
        lot=Lot(lot_id=fields.get("lot_id", "lot-1"), ps_id=fields.get("ps_id", "ps-1"), fse=fse)
    )


def test_good_lot_has_no_problem() -> None:
    assert validate_lot(lot(good_fse())) == []


def test_empty_lot() -> None:
    assert [(p.code, p.field) for p in validate_lot(lot())] == [("LOT_EMPTY", "lot.fse")]


def test_every_malformed_field_is_listed_with_its_path() -> None:
    bad = good_fse()
    bad.acts.append(ActLine(code="AMI", coefficient="1,5", performed_on="2026-02-30", complements=["X"]))
    bad.mode = BillingMode.BILLING_MODE_UNSPECIFIED
    bad.prescribed_on = "yesterday"
    other = good_fse("fse-1")
    problems = {(p.code, p.field) for p in validate_lot(lot(bad, other))}
    assert problems == {
        ("FIELD_MALFORMED", "lot.fse[0].mode"),
        ("FIELD_MALFORMED", "lot.fse[0].prescribed_on"),
        ("FIELD_MALFORMED", "lot.fse[0].acts[1].coefficient"),
        ("FIELD_MALFORMED", "lot.fse[0].acts[1].performed_on"),
        ("FIELD_MALFORMED", "lot.fse[0].acts[1].complements[0]"),
        ("FSE_ID_DUPLICATE", "lot.fse[1].fse_id"),
    }


def test_missing_ids_and_bad_receipt_day() -> None:
    request = lot(Fse(), lot_id="", ps_id="")
    request.received_on = "2026/03/02"
    fields = {p.field for p in validate_lot(request)}
    assert {
        "lot.lot_id",
        "lot.ps_id",
        "received_on",
        "lot.fse[0].fse_id",
        "lot.fse[0].nir",
        "lot.fse[0].nir_key",
        "lot.fse[0].acts",
    } <= fields


def test_document_reference_is_checked() -> None:
    sheet = good_fse()
    sheet.document.CopyFrom(DocumentRef(document_id="pj-1", kind="photo", quality="blurry"))
    fields = {p.field for p in validate_lot(lot(sheet))}
    assert fields == {"lot.fse[0].document.kind", "lot.fse[0].document.quality"}


def test_content_errors_are_not_lot_errors() -> None:
    # Wrong key, unknown code, absurd NIR: the national check's business, not a negative ARL.
    sheet = good_fse()
    sheet.nir_key = "99"
    sheet.nir = "not-a-nir"
    sheet.acts[0].code = "AMY"
    assert validate_lot(lot(sheet)) == []


def test_a_complement_given_twice_on_a_line_is_malformed() -> None:
    sheet = good_fse()
    sheet.acts[0].complements[:] = ["F", "N", "F"]
    assert [(p.code, p.field) for p in validate_lot(lot(sheet))] == [
        ("FIELD_MALFORMED", "lot.fse[0].acts[0].complements[2]")
    ]


def test_a_negative_arl_lists_at_most_a_thousand_problems_then_counts_the_others() -> None:
    sheets = [Fse(fse_id=f"f{i}", mode=BillingMode.BILLING_MODE_SECURISE) for i in range(400)]
    problems = validate_lot(lot(*sheets))  # each lacks its NIR, key and acts: 1,200 problems
    assert len(problems) == 1_200
    listed = bounded(problems)
    assert listed[:MAX_ARL_PROBLEMS] == problems[:MAX_ARL_PROBLEMS]
    assert (listed[-1].code, listed[-1].field, listed[-1].message) == (
        "ARL_TRUNCATED",
        "lot",
        "200 more problems not listed",
    )
    assert bounded(problems[:5]) == problems[:5]


def test_coefficient_parsing() -> None:
    assert coefficient_hundredths("4") == 400
    assert coefficient_hundredths("1.5") == 150
    assert coefficient_hundredths("1.25") == 125
    for bad in ("0", "-1", "1.255", "1,5", "", "abc", "1e2", "４", "1.５"):
        assert coefficient_hundredths(bad) is None, bad


def test_arl_texts_are_plain_french() -> None:
    from datetime import date

    from ingest.domain.validation import LotProblem

    positive = arl.positive_text("lot-1", date(2026, 3, 2), 3, "CTI Sud-Ouest")
    assert "positif" in positive and "02/03/2026" in positive and "3 feuille" in positive
    negative = arl.negative_text("lot-1", date(2026, 3, 2), [LotProblem("PS_UNKNOWN", "ps_id", "x")])
    assert "négatif" in negative and "professionnel inconnu (ps_id)" in negative
