"""Is a lot usable as a whole? Every problem, with the path of the field at fault (R1).

Only what makes the lot unreadable is checked here (missing ids, malformed dates and numbers,
unknown enumerations); a request over the API's limits never gets here (request_bounds.py).
Whether the content is right (NIR key, act codes, rights...) is the national check's job and
comes back as a classification, not as a negative ARL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fseflow.contracts.claims.v1.claims_pb2 import BillingMode
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from fseflow.vocabulary import documents
from fseflow.vocabulary.calendar import parse_day
from fseflow.vocabulary.names import is_safe_id
from ingest.domain.limits import MAX_ARL_PROBLEMS

PS_UNKNOWN = "PS_UNKNOWN"
LOT_DUPLICATE = "LOT_DUPLICATE"
LOT_EMPTY = "LOT_EMPTY"
FIELD_MISSING = "FIELD_MISSING"
FIELD_MALFORMED = "FIELD_MALFORMED"
FSE_ID_DUPLICATE = "FSE_ID_DUPLICATE"
ORGANISM_UNROUTABLE = "ORGANISM_UNROUTABLE"
ATTACHMENT_UNREFERENCED = "ATTACHMENT_UNREFERENCED"
DOCUMENT_REJECTED = "DOCUMENT_REJECTED"
ARL_TRUNCATED = "ARL_TRUNCATED"

COMPLEMENTS = frozenset({"F", "N", "NP"})
DOCUMENT_KINDS = frozenset({"prescription", "fsp", "explanation"})
DOCUMENT_QUALITIES = frozenset({"ok", "unreadable"})
_COEFFICIENT = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,2})?$")
_VALID_MODES = frozenset(
    {
        BillingMode.BILLING_MODE_SECURISE,
        BillingMode.BILLING_MODE_DEGRADE,
        BillingMode.BILLING_MODE_PAPIER,
    }
)


@dataclass(frozen=True)
class LotProblem:
    code: str
    field: str
    message: str


def bounded(problems: list[LotProblem]) -> list[LotProblem]:
    """At most MAX_ARL_PROBLEMS problems, then one entry counting the others (the ARL must fit
    in one broker record and one gRPC answer)."""
    if len(problems) <= MAX_ARL_PROBLEMS:
        return problems
    rest = len(problems) - MAX_ARL_PROBLEMS
    more = LotProblem(ARL_TRUNCATED, "lot", f"{rest} more problems not listed")
    return [*problems[:MAX_ARL_PROBLEMS], more]


def coefficient_hundredths(text: str) -> int | None:
    """ "1.5" -> 150; None unless a positive decimal with at most two decimals."""
    if not _COEFFICIENT.match(text):
        return None
    whole, _, fraction = text.partition(".")
    value = int(whole) * 100 + int(fraction.ljust(2, "0") or "0")
    return value or None


def is_world(text: str) -> bool:
    return is_safe_id(text)


def _is_day(text: str) -> bool:
    try:
        parse_day(text)
    except ValueError:
        return False
    return True


def validate_lot(request: SubmitLotRequest) -> list[LotProblem]:
    problems: list[LotProblem] = []
    add = problems.append
    lot = request.lot
    if request.world and not is_world(request.world):
        add(LotProblem(FIELD_MALFORMED, "world", "letters, digits, '.', '_' or '-', 64 at most"))
    if request.received_on and not _is_day(request.received_on):
        add(
            LotProblem(
                FIELD_MALFORMED,
                "received_on",
                f"{request.received_on!r} is not a date (YYYY-MM-DD)",
            )
        )
    if not lot.lot_id:
        add(LotProblem(FIELD_MISSING, "lot.lot_id", "a lot needs its id"))
    if not lot.ps_id:
        add(LotProblem(FIELD_MISSING, "lot.ps_id", "a lot needs the sending professional's id"))
    if not lot.fse:
        add(LotProblem(LOT_EMPTY, "lot.fse", "the lot holds no FSE"))
    seen: set[str] = set()
    for i, fse in enumerate(lot.fse):
        at = f"lot.fse[{i}]"
        if not fse.fse_id:
            add(LotProblem(FIELD_MISSING, f"{at}.fse_id", "every FSE needs its id"))
        elif fse.fse_id in seen:
            add(LotProblem(FSE_ID_DUPLICATE, f"{at}.fse_id", f"{fse.fse_id!r} appears twice in the lot"))
        seen.add(fse.fse_id)
        if not fse.nir:
            add(LotProblem(FIELD_MISSING, f"{at}.nir", "the patient's NIR is missing"))
        if not fse.nir_key:
            add(LotProblem(FIELD_MISSING, f"{at}.nir_key", "the NIR key is missing"))
        if fse.mode not in _VALID_MODES:
            add(LotProblem(FIELD_MALFORMED, f"{at}.mode", "must be securise, degrade or papier"))
        if fse.prescribed_on and not _is_day(fse.prescribed_on):
            add(
                LotProblem(
                    FIELD_MALFORMED,
                    f"{at}.prescribed_on",
                    f"{fse.prescribed_on!r} is not a date (YYYY-MM-DD)",
                )
            )
        if not fse.acts:
            add(LotProblem(FIELD_MISSING, f"{at}.acts", "an FSE needs at least one act line"))
        for j, act in enumerate(fse.acts):
            act_at = f"{at}.acts[{j}]"
            if not act.code:
                add(LotProblem(FIELD_MISSING, f"{act_at}.code", "the act's letter key is missing"))
            if coefficient_hundredths(act.coefficient) is None:
                add(
                    LotProblem(
                        FIELD_MALFORMED,
                        f"{act_at}.coefficient",
                        f"{act.coefficient!r} is not a positive decimal with at most two decimals",
                    )
                )
            if not _is_day(act.performed_on):
                add(
                    LotProblem(
                        FIELD_MALFORMED,
                        f"{act_at}.performed_on",
                        f"{act.performed_on!r} is not a date (YYYY-MM-DD)",
                    )
                )
            for k, complement in enumerate(act.complements):
                if complement not in COMPLEMENTS:
                    add(
                        LotProblem(
                            FIELD_MALFORMED,
                            f"{act_at}.complements[{k}]",
                            f"{complement!r} is not a complement (F, N or NP)",
                        )
                    )
                elif complement in act.complements[:k]:
                    # Each complement is paid once per line: a repeat would be paid twice.
                    at_k = f"{act_at}.complements[{k}]"
                    add(LotProblem(FIELD_MALFORMED, at_k, f"{complement!r} given twice"))
        if fse.HasField("document"):
            document = fse.document
            if not document.document_id:
                add(LotProblem(FIELD_MISSING, f"{at}.document.document_id", "the document needs its id"))
            if document.kind not in DOCUMENT_KINDS:
                add(
                    LotProblem(
                        FIELD_MALFORMED,
                        f"{at}.document.kind",
                        f"{document.kind!r} is not prescription, fsp or explanation",
                    )
                )
            if document.quality and document.quality not in DOCUMENT_QUALITIES:
                add(LotProblem(FIELD_MALFORMED, f"{at}.document.quality", "must be ok or unreadable"))
    return problems


def validate_attachments(request: SubmitLotRequest, max_bytes: int) -> list[LotProblem]:
    """Each attached document must be referenced by an FSE of the lot and be a document Scor
    takes (the same rules scor-store applies, checked before anything is stored)."""
    problems: list[LotProblem] = []
    referenced = {f.document.document_id for f in request.lot.fse if f.HasField("document")}
    seen: set[str] = set()
    for i, attachment in enumerate(request.attachments):
        at = f"attachments[{i}]"
        if not attachment.document_id:
            problems.append(LotProblem(FIELD_MISSING, f"{at}.document_id", "the document id is missing"))
        elif attachment.document_id in seen:
            problems.append(LotProblem(FIELD_MALFORMED, f"{at}.document_id", "attached twice"))
        elif attachment.document_id not in referenced:
            problems.append(
                LotProblem(
                    ATTACHMENT_UNREFERENCED,
                    f"{at}.document_id",
                    f"{attachment.document_id!r} is not the document of any FSE of the lot",
                )
            )
        seen.add(attachment.document_id)
        try:
            documents.check_size(len(attachment.content), max_bytes)
            documents.content_type_of(attachment.content[:16])
        except documents.RejectedDocument as exc:
            problems.append(
                LotProblem(DOCUMENT_REJECTED, f"{at}.content", str(exc).removeprefix("content: "))
            )
    return problems
