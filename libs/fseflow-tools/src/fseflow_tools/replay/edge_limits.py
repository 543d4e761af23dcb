"""A scenario's lots against ingest's documented limits (docs/decisions.md D35, D88).

A lot over them (a string over its cap, a control character, more FSE or lines than the B2 norm
counts) is refused by ingest with INVALID_ARGUMENT: nothing is registered and no ARL exists, so
the replay could not go on. The file is refused before anything is sent instead, each problem
at its JSON path. The check is ingest's own (``ingest.domain.request_bounds``) on the very request
the replay would send, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fseflow.contracts.claims.v1.claims_pb2 import Lot
from fseflow.contracts.cti.v1.ingest_pb2 import Attachment, SubmitLotRequest
from fseflow_tools.replay.requests import fse_message
from ingest.domain.request_bounds import lot_violations

# Field names of the protos where the scenario file names them otherwise.
_SCENARIO_NAMES = {
    "lot_id": "id",
    "ps_id": "ps",
    "fse_id": "id",
    "nir_key": "key",
    "coefficient": "coef",
    "performed_on": "on",
    "document_id": "id",
}
_SEGMENT = re.compile(r"[A-Za-z_]+")
_ATTACHMENT = re.compile(r"^attachments\[(\d+)\]")
_LIMIT_NOTE = "over ingest's limits, the lot would be refused (services/ingest/README.md)"


def lot_problems(events: list[Any]) -> Iterator[tuple[str, str]]:
    """(JSON path, message) of every field of every lot or correction over ingest's limits."""
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("lot"), dict):
            yield from _problems(event["lot"], f"events[{i}].lot", "", event.get("on", ""))
        correction = event.get("correction")
        if isinstance(correction, dict) and isinstance(correction.get("lot"), dict):
            at, replaces = f"events[{i}].correction.lot", str(correction.get("replaces", ""))
            yield from _problems(correction["lot"], at, replaces, event.get("on", ""))


def _problems(lot: dict[str, Any], at: str, rectifies: str, on: str) -> Iterator[tuple[str, str]]:
    request = _request(lot, rectifies, on)
    with_documents = [j for j, sheet in enumerate(lot["fse"]) if isinstance(sheet.get("document"), dict)]
    seen: set[str] = set()
    for violation in lot_violations(request):
        path = _scenario_path(violation.field, at, with_documents)
        if path not in seen:  # ``rectifies`` is repeated on every FSE of a correction
            seen.add(path)
            yield path, f"{violation.reason}: {_LIMIT_NOTE}"


def _request(lot: dict[str, Any], rectifies: str, on: str) -> SubmitLotRequest:
    """The request the replay sends, without the documents' bytes (their size is gRPC's limit) and
    the world id (the replay makes it, at most 49 characters): only the lot's own fields can be
    over a limit."""
    return SubmitLotRequest(
        received_on=on,
        lot=Lot(
            lot_id=lot["id"],
            ps_id=lot["ps"],
            fse=[fse_message(sheet, rectifies=rectifies) for sheet in lot["fse"]],
        ),
        attachments=[
            Attachment(document_id=sheet["document"]["id"])
            for sheet in lot["fse"]
            if isinstance(sheet.get("document"), dict)
        ],
    )


def _scenario_path(field: str, lot_at: str, with_documents: list[int]) -> str:
    """``lot.fse[2].acts[0].performed_on`` -> ``events[5].lot.fse[2].acts[0].on``."""
    attachment = _ATTACHMENT.match(field)
    if attachment:
        if field == attachment.group(0) + ".document_id":
            return f"{lot_at}.fse[{with_documents[int(attachment.group(1))]}].document.id"
        return f"{lot_at}.fse"  # the count of documents: one per FSE, so the FSE count
    if field.endswith(".rectifies"):
        return lot_at.removesuffix(".lot") + ".replaces"
    inner = field.removeprefix("lot").lstrip(".")
    renamed = _SEGMENT.sub(lambda m: _SCENARIO_NAMES.get(m.group(0), m.group(0)), inner)
    return f"{lot_at}.{renamed}" if renamed else lot_at
