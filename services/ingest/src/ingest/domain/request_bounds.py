"""Is a request within the API's documented limits (domain/limits.py)? Checked before anything
else: a request over them is refused with INVALID_ARGUMENT listing each field at fault, and
nothing of it is registered or published (docs/decisions.md D35).

Every string field is walked through the message descriptors, so a field added to the protos
later is capped too. Allowed characters: str.isprintable() — letters, marks, digits, punctuation,
symbols and the ASCII space; no control (NUL, newline...), format (zero-width, bidi overrides),
separator, surrogate, private-use or unassigned character.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from fseflow.contracts.claims.v1.claims_pb2 import ActLine
from fseflow.contracts.cti.v1.ingest_pb2 import DocumentSubmission, SubmitLotRequest
from ingest.domain.limits import (
    MAX_ACT_TEXT_CHARS,
    MAX_ACTS_PER_FSE,
    MAX_ACTS_PER_LOT,
    MAX_COMPLEMENTS_PER_ACT,
    MAX_FSE_PER_LOT,
    MAX_LISTED_VIOLATIONS,
    MAX_TEXT_CHARS,
)

_ACT_LINE = ActLine.DESCRIPTOR


@dataclass(frozen=True)
class Violation:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def lot_violations(request: SubmitLotRequest) -> list[Violation]:
    """Counts first: over them the strings are not walked (a huge lot is refused at once)."""
    found = _count_violations(request)
    if not found:
        found = list(_string_violations(request, ""))
    return found


def submission_violations(submission: DocumentSubmission) -> list[Violation]:
    return list(_string_violations(submission, "metadata"))


def describe(violations: list[Violation]) -> str:
    """The INVALID_ARGUMENT details: ``path: reason; path: reason`` (the first ones)."""
    listed = "; ".join(str(v) for v in violations[:MAX_LISTED_VIOLATIONS])
    more = len(violations) - MAX_LISTED_VIOLATIONS
    return listed + (f"; and {more} more" if more > 0 else "")


def _count_violations(request: SubmitLotRequest) -> list[Violation]:
    found: list[Violation] = []
    sheets = request.lot.fse
    if len(sheets) > MAX_FSE_PER_LOT:
        found.append(Violation("lot.fse", f"{len(sheets)} FSE, at most {MAX_FSE_PER_LOT} per lot"))
    if len(request.attachments) > MAX_FSE_PER_LOT:
        found.append(
            Violation("attachments", f"{len(request.attachments)} documents, at most {MAX_FSE_PER_LOT}")
        )
    total = sum(len(fse.acts) for fse in sheets)
    if total > MAX_ACTS_PER_LOT:
        found.append(Violation("lot.fse", f"{total} act lines in the lot, at most {MAX_ACTS_PER_LOT}"))
    for i, fse in enumerate(sheets[:MAX_FSE_PER_LOT]):
        if len(fse.acts) > MAX_ACTS_PER_FSE:
            found.append(
                Violation(f"lot.fse[{i}].acts", f"{len(fse.acts)} act lines, at most {MAX_ACTS_PER_FSE}")
            )
    if found:
        return found
    for i, fse in enumerate(sheets):
        for j, act in enumerate(fse.acts):
            if len(act.complements) > MAX_COMPLEMENTS_PER_ACT:
                found.append(
                    Violation(
                        f"lot.fse[{i}].acts[{j}].complements",
                        f"{len(act.complements)} complements, at most {MAX_COMPLEMENTS_PER_ACT}",
                    )
                )
    return found


def _string_violations(message: Message, path: str) -> Iterator[Violation]:
    for name, text, cap in _strings(message, path):
        if len(text) > cap:
            yield Violation(name, f"{len(text)} characters, at most {cap}")
        elif not text.isprintable():
            bad = next(c for c in text if not c.isprintable())
            yield Violation(name, f"holds U+{ord(bad):04X}, a control or invisible character")


def _strings(message: Message, path: str) -> Iterator[tuple[str, str, int]]:
    """(path, value, cap) of every non-empty string field, nested messages included."""
    cap = MAX_ACT_TEXT_CHARS if message.DESCRIPTOR is _ACT_LINE else MAX_TEXT_CHARS
    for field, value in message.ListFields():
        at = f"{path}.{field.name}" if path else field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                yield from ((f"{at}[{i}]", item, cap) for i, item in enumerate(value))
            else:
                yield at, value, cap
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for i, item in enumerate(value):
                    yield from _strings(item, f"{at}[{i}]")
            else:
                yield from _strings(value, at)
