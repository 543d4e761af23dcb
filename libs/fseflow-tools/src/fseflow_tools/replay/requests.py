"""The requests a scenario's events become at ingest's gRPC API: a lot with its documents' bytes,
a document's metadata and chunks. Shared by the replay, the load generator and the scenario check
of ingest's limits (edge_limits.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, DocumentRef, Fse, Lot
from fseflow.contracts.cti.v1.ingest_pb2 import (
    Attachment,
    DocumentSubmission,
    SubmitDocumentRequest,
    SubmitLotRequest,
)
from fseflow.vocabulary.documents import CHUNK_BYTES
from fseflow_tools.replay.documents import content_of

MODES = {
    "securise": BillingMode.BILLING_MODE_SECURISE,
    "degrade": BillingMode.BILLING_MODE_DEGRADE,
    "papier": BillingMode.BILLING_MODE_PAPIER,
}


def coefficient_text(value: float | int) -> str:
    """4 -> "4", 1.5 -> "1.5", 4.0 -> "4": the coefficient as a professional types it."""
    return format(Decimal(str(value)).normalize(), "f")


def fse_message(sheet: dict[str, Any], *, rectifies: str = "") -> Fse:
    message = Fse(
        rectifies=rectifies,
        fse_id=sheet["id"],
        nir=sheet["nir"],
        nir_key=sheet["key"],
        mode=MODES[sheet["mode"]],
        prescriber=sheet.get("prescriber") or "",
        prescribed_on=sheet.get("prescribed_on") or "",
        acts=[
            ActLine(
                code=act["code"],
                coefficient=coefficient_text(act["coef"]),
                performed_on=act["on"],
                complements=act.get("complements", []),
            )
            for act in sheet["acts"]
        ],
        ald=bool(sheet.get("ald", False)),
        signature_impossible=bool(sheet.get("signature_impossible", False)),
        dsi_sent=bool(sheet.get("dsi_sent", False)),
        suite_de_soins=bool(sheet.get("suite_de_soins", False)),
    )
    document = sheet.get("document")
    if isinstance(document, dict):
        message.document.CopyFrom(
            DocumentRef(
                document_id=document["id"],
                kind=document["kind"],
                quality=document.get("quality", "ok"),
            )
        )
    return message


def lot_request(
    world: str, lot: dict[str, Any], on: date, base_dir: Path | None = None, *, rectifies: str = ""
) -> SubmitLotRequest:
    """The lot as a professional's software sends it, with the bytes of its FSE's documents; a
    correction's FSE name the rejected one they replace (``rectifies``)."""
    attachments = [
        Attachment(document_id=sheet["document"]["id"], content=content_of(sheet["document"], base_dir))
        for sheet in lot["fse"]
        if isinstance(sheet.get("document"), dict)
    ]
    return SubmitLotRequest(
        world=world,
        received_on=on.isoformat(),
        lot=Lot(
            lot_id=lot["id"],
            ps_id=lot["ps"],
            fse=[fse_message(sheet, rectifies=rectifies) for sheet in lot["fse"]],
        ),
        attachments=attachments,
    )


def document_messages(
    world: str, document: dict[str, Any], on: date, base_dir: Path | None
) -> list[SubmitDocumentRequest]:
    content = content_of(document, base_dir)
    submission = DocumentSubmission(
        world=world,
        document_id=document["id"],
        fse_id=document["fse"],
        ps_id=document["ps"],
        kind=document["kind"],
        received_on=on.isoformat(),
    )
    return [SubmitDocumentRequest(metadata=submission)] + [
        SubmitDocumentRequest(chunk=content[i : i + CHUNK_BYTES]) for i in range(0, len(content), CHUNK_BYTES)
    ]
