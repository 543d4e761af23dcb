"""Property-based fuzzing of ingest's edge and national-check's parsing (hypothesis).

``FSEFLOW_FUZZ_EXAMPLES`` selects the profile: unset, the CI profile (100 examples per property,
derandomized so that CI never fails at random); set (``make fuzz``), that many examples per
property with a fresh seed each run. The integration property through the running ingest runs a
tenth of them. Every executed example is counted for ``make fuzz``'s summary (tests/fuzz_report.py).

Mutated lots start from a valid lot and change fields in three ways, each with what ingest must
answer: ``transport`` (a control or invisible character, a string over its cap) -> INVALID_ARGUMENT
naming exactly those fields; ``contract`` (a missing id, a malformed date, coefficient, enumeration,
an FSE id or complement twice, no act line, an empty lot) -> a negative ARL naming at least those
fields; ``content`` (readable but maybe wrong: any NIR, key, code...) -> accepted, and then national
check must read and classify every FSE without failing.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from google.protobuf.message import Message
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, DocumentRef, Fse, Lot
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from fseflow.vocabulary.calendar import parse_day
from ingest.domain.limits import MAX_ACT_TEXT_CHARS, MAX_TEXT_CHARS
from ingest.domain.request_bounds import lot_violations
from ingest.domain.validation import (
    COMPLEMENTS,
    DOCUMENT_KINDS,
    DOCUMENT_QUALITIES,
    bounded,
    coefficient_hundredths,
    is_world,
    validate_attachments,
    validate_lot,
)

EXAMPLES = int(os.environ.get("FSEFLOW_FUZZ_EXAMPLES") or 100)
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
# No example database: nothing written to the checkout; a failure prints its example.
settings.register_profile(
    "fseflow-ci", derandomize=True, deadline=None, database=None, suppress_health_check=_QUIET
)
settings.register_profile(
    "fseflow-fuzz", derandomize=False, deadline=None, database=None, suppress_health_check=_QUIET
)
PROFILE = settings.get_profile("fseflow-fuzz" if "FSEFLOW_FUZZ_EXAMPLES" in os.environ else "fseflow-ci")


def fuzz_settings(share: float = 1.0, least: int = 5) -> settings:
    return settings(PROFILE, max_examples=max(least, int(EXAMPLES * share)))


@dataclass
class Tally:
    cases: int = 0
    failed: int = 0


TALLY = Tally()
F = TypeVar("F", bound=Callable[..., Any])


def counted(test: F) -> F:
    """Count each executed example, and each one that failed (shrinking replays count too)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        TALLY.cases += 1
        try:
            return test(*args, **kwargs)
        except BaseException:
            TALLY.failed += 1
            raise

    return run  # type: ignore[return-value]


# --- field paths -------------------------------------------------------------------------------

_STEP = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")


def resolves(message: Message, path: str) -> bool:
    """Does ``lot.fse[3].acts[1].code`` name a field that exists in ``message``?"""
    node: Any = message
    for step in path.split("."):
        match = _STEP.match(step)
        if match is None or not hasattr(node, match.group(1)):
            return False
        node = getattr(node, match.group(1))
        if match.group(2) is not None:
            index = int(match.group(2))
            if index >= len(node):
                return False
            node = node[index]
    return True


def _set(message: Message, path: str, value: Any) -> None:
    parent_path, _, last = path.rpartition(".")
    parent: Any = message
    for step in parent_path.split(".") if parent_path else ():
        name, _, index = step.partition("[")
        parent = getattr(parent, name)
        if index:
            parent = parent[int(index.rstrip("]"))]
    name, _, index = last.partition("[")
    if index:
        getattr(parent, name)[int(index.rstrip("]"))] = value
    else:
        setattr(parent, name, value)


# --- values ------------------------------------------------------------------------------------

PRINTABLE = st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"]).filter(str.isprintable)
NOT_PRINTABLE = st.characters(codec="utf-8", categories=["Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs"]).filter(
    lambda c: not c.isprintable()
)
# Digits that str.isdigit() and int() take but that are not ASCII: full-width, Arabic-Indic...
UNICODE_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())


def printable(least: int, most: int) -> st.SearchStrategy[str]:
    return st.text(PRINTABLE, min_size=least, max_size=most)


def digits_of_any_script(size: int) -> st.SearchStrategy[str]:
    return st.text(st.one_of(st.sampled_from("0123456789"), UNICODE_DIGITS), min_size=size, max_size=size)


def _not_a_day(text: str) -> bool:
    try:
        parse_day(text)
    except ValueError:
        return True
    return False


@st.composite
def transport_text(draw: st.DrawFn, cap: int) -> str:
    if draw(st.booleans()):
        return draw(printable(cap + 1, cap + 40))
    head = draw(printable(0, cap // 2))
    tail = draw(printable(0, cap // 2 - 1))
    return head + draw(NOT_PRINTABLE) + tail


# Which contract defect each kind of field can carry (printable, within its cap).
_DATES = {"received_on", "prescribed_on", "performed_on"}
_REQUIRED = {"lot_id", "ps_id", "fse_id", "nir", "nir_key", "code", "document_id"}


def contract_value(name: str) -> st.SearchStrategy[str] | None:
    if name in _DATES:
        samples = st.sampled_from(["2026-02-30", "2026/03/02", "20260302", "2026-3-2", "２０２６-03-02"])
        return st.one_of(samples, printable(1, MAX_ACT_TEXT_CHARS).filter(_not_a_day))
    if name == "coefficient":
        samples = st.sampled_from(["0", "1,5", "1.255", "-1", "４", "1e2", "1."])
        return st.one_of(
            samples, printable(0, MAX_ACT_TEXT_CHARS).filter(lambda t: coefficient_hundredths(t) is None)
        )
    if name == "complements":
        return printable(0, MAX_ACT_TEXT_CHARS).filter(lambda t: t not in COMPLEMENTS)
    if name == "kind":
        return printable(0, MAX_TEXT_CHARS).filter(lambda t: t not in DOCUMENT_KINDS)
    if name == "quality":
        return printable(1, MAX_TEXT_CHARS).filter(lambda t: t not in DOCUMENT_QUALITIES)
    if name == "world":
        return printable(1, MAX_TEXT_CHARS).filter(lambda t: not is_world(t))
    if name in _REQUIRED:
        return st.just("")
    return None


def content_value(name: str) -> st.SearchStrategy[str] | None:
    """Readable values the edge must let through (the national check judges them)."""
    if name in {"nir", "nir_key", "prescriber"}:
        return st.one_of(digits_of_any_script(13), digits_of_any_script(2), printable(1, MAX_TEXT_CHARS))
    if name in {"lot_id", "rectifies"}:
        return printable(1, MAX_TEXT_CHARS)
    if name == "code":
        return st.one_of(
            st.sampled_from(["AMI", "AIS", "IFD", "AMY", "ami"]), printable(1, MAX_ACT_TEXT_CHARS)
        )
    return None


# --- lots --------------------------------------------------------------------------------------


def valid_sheet(index: int, acts: int) -> Fse:
    return Fse(
        fse_id=f"fse-{index}",
        nir="2860133063082",
        nir_key="17",
        mode=BillingMode.BILLING_MODE_SECURISE,
        prescriber="10003456786",
        prescribed_on="2026-02-20",
        acts=[
            ActLine(code="AMI", coefficient="4", performed_on=f"2026-02-{10 + j:02d}", complements=["F"])
            for j in range(acts)
        ],
        document=DocumentRef(document_id=f"pj-{index}", kind="prescription", quality="ok"),
    )


def string_paths(request: SubmitLotRequest) -> list[str]:
    """Every string slot of the lot, set or not (an empty optional field may be filled)."""
    paths = ["world", "received_on", "lot.lot_id", "lot.ps_id"]
    for i, sheet in enumerate(request.lot.fse):
        at = f"lot.fse[{i}]"
        paths += [
            f"{at}.{name}"
            for name in ("fse_id", "nir", "nir_key", "prescriber", "prescribed_on", "rectifies")
        ]
        paths += [f"{at}.document.{name}" for name in ("document_id", "kind", "quality")]
        for j, act in enumerate(sheet.acts):
            paths += [f"{at}.acts[{j}].{name}" for name in ("code", "coefficient", "performed_on")]
            paths += [f"{at}.acts[{j}].complements[{k}]" for k in range(len(act.complements))]
    return paths


def _name(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path.rpartition(".")[2])


@dataclass
class Case:
    request: SubmitLotRequest
    transport: set[str] = field(default_factory=set)
    contract: set[str] = field(default_factory=set)


@st.composite
def mutated_lots(
    draw: st.DrawFn, *, world: str = "w", lot_id: str = "lot", mutate_world: bool = True
) -> Case:
    sheets = draw(st.integers(1, 4))
    request = SubmitLotRequest(
        world=world,
        received_on="2026-03-02",
        lot=Lot(
            lot_id=lot_id, ps_id="ps-1", fse=[valid_sheet(i, draw(st.integers(1, 4))) for i in range(sheets)]
        ),
    )
    case = Case(request)
    fse = request.lot.fse
    # Structure first: the path mutations then apply to what is left.
    structure = draw(
        st.sampled_from(["none", "none", "none", "no-acts", "empty-lot", "repeat-complement", "mode"])
    )
    i = draw(st.integers(0, len(fse) - 1))
    if structure == "no-acts":
        del fse[i].acts[:]
        case.contract.add(f"lot.fse[{i}].acts")
    elif structure == "empty-lot":
        del fse[:]
        case.contract.add("lot.fse")
    elif structure == "repeat-complement":
        fse[i].acts[0].complements.append("F")
    elif structure == "mode":
        fse[i].mode = draw(st.sampled_from([0, 4, 7, 99, -1]))  # type: ignore[assignment]
        case.contract.add(f"lot.fse[{i}].mode")
    paths = [p for p in string_paths(request) if mutate_world or p != "world"]
    chosen: dict[str, tuple[str, str]] = {}
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(paths))
        name = _name(path)
        cap = MAX_ACT_TEXT_CHARS if ".acts[" in path else MAX_TEXT_CHARS
        options = [("transport", transport_text(cap))]
        for kind, strategy in (("contract", contract_value(name)), ("content", content_value(name))):
            if strategy is not None:
                options.append((kind, strategy))
        kind, strategy = draw(st.sampled_from(options))
        value = draw(strategy)
        if kind == "content" and name == "fse_id":
            value = f"{path}:{value}"[:MAX_TEXT_CHARS]  # unique: a repeat would be a contract defect
        chosen[path] = (kind, value)
    for path, (kind, value) in chosen.items():
        _set(request, path, value)
        if kind != "content":
            getattr(case, kind).add(path)
    repeat = f"lot.fse[{i}].acts[0].complements"
    if structure == "repeat-complement" and not any(p.startswith(repeat) for p in chosen):
        case.contract.add(f"{repeat}[1]")
    if len(fse) >= 2 and draw(st.booleans()) and not any(p.endswith(".fse_id") for p in chosen):
        fse[1].fse_id = fse[0].fse_id
        case.contract.add("lot.fse[1].fse_id")
    return case


@dataclass(frozen=True)
class EdgeAnswer:
    """What ingest's pure checks answer: refused (INVALID_ARGUMENT), or the ARL's problems."""

    invalid: tuple[str, ...]
    problems: tuple[str, ...]


def edge_answer(request: SubmitLotRequest, max_document_bytes: int = 10 * 1024 * 1024) -> EdgeAnswer:
    violations = lot_violations(request)
    if violations:
        return EdgeAnswer(tuple(v.field for v in violations), ())
    problems = bounded(validate_lot(request) + validate_attachments(request, max_document_bytes))
    return EdgeAnswer((), tuple(p.field for p in problems))
