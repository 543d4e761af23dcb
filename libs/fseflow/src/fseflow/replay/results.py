"""The results file of the replay contract, built from what the pipeline published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fseflow.cti.v1.classification_pb2 import Classification, FseClassified, Reason
from fseflow.cti.v1.ingest_pb2 import Arl, ArlIssued
from fseflow.replay.scenario import Event, Scenario
from fseflow.scor.v1.scor_pb2 import AidGranted, DocumentStored

COST_PAPER = 174  # R11: cents per paper sheet
COST_TRANSMITTED = 27  # R11: cents per transmitted sheet (FSE or dégradé)

_STATUS = {"accord": "validated", "rejet": "rejected", "litigieuse": "pending_review"}


@dataclass
class Submission:
    """One lot sent by the replay and the ARL it got back from SubmitLot."""

    event: Event
    lot: dict[str, Any]
    arl: Arl


def euros(cents: int) -> float:
    return round(cents / 100, 2)


def classification_name(value: int) -> str:
    return Classification.Name(value).removeprefix("CLASSIFICATION_").lower()


def reason_name(value: int) -> str:
    return Reason.Name(value).removeprefix("REASON_")


def _lot_entry(arl: Arl) -> dict[str, Any]:
    return {
        "arl": "positive" if arl.positive else "negative",
        "arl_on": arl.issued_on or None,
        "cti": arl.cti,
        "errors": [{"code": e.code, "field": e.field, "message": e.message} for e in arl.errors],
    }


def _fse_entry(lot_id: str) -> dict[str, Any]:
    return {
        "lot": lot_id,
        "classification": None,
        "reasons": [],
        "status": "lot_refused",
        "delivered_on": None,
        "decided_on": None,
        "paid_on": None,
        "amount": None,
        "document_matched_on": None,
        "overdue_on": None,
        "reminder_on": None,
        "indu_on": None,
        "recovered_on": None,
        "recovered_amount": 0.0,
        "replaced_by": None,
    }


def build(
    scenario: Scenario,
    submissions: Iterable[Submission],
    classified: Iterable[FseClassified],
    arl_notices: Iterable[ArlIssued],
    notes: list[str] | None = None,
    *,
    documents: Iterable[DocumentStored] = (),
    aids: Iterable[AidGranted] = (),
    refused_documents: dict[str, str] | None = None,
) -> dict[str, Any]:
    verdicts = {(c.lot_id, c.fse_id): c for c in classified}
    lots: dict[str, dict[str, Any]] = {}
    fse: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    modes: dict[str, str] = {}
    for submission in submissions:
        lot_id = submission.lot["id"]
        if lot_id in lots:
            lots[lot_id].setdefault("resubmitted", []).append(_lot_entry(submission.arl))
        else:
            lots[lot_id] = _lot_entry(submission.arl)
        for sheet in submission.lot["fse"]:
            ident = sheet["id"]
            if ident in fse:
                continue
            entry = _fse_entry(lot_id)
            fse[ident] = entry
            modes[ident] = sheet["mode"]
            if not submission.arl.positive:
                continue
            verdict = verdicts.get((lot_id, ident))
            if verdict is None:
                entry["status"] = "lost"
                missing.append(ident)
                continue
            outcome = classification_name(verdict.classification)
            entry.update(
                classification=outcome,
                reasons=[reason_name(r) for r in verdict.reasons],
                status=_STATUS[outcome],
                amount=euros(verdict.amount_cents),
                cti=verdict.cti,
                checked_on=verdict.checked_on,
            )
    notices = sorted(
        (
            {
                "to": n.arl.ps_id,
                "kind": "arl",
                "on": n.arl.issued_on or None,
                "fse": None,
                "lot": n.arl.lot_id,
                "text": n.arl.text,
            }
            for n in arl_notices
        ),
        key=lambda n: (n["on"] or "", n["kind"], n["to"], n["lot"], n["text"]),
    )
    counts = Counter(entry["classification"] for entry in fse.values())
    processed = [ident for ident, entry in fse.items() if entry["classification"] is not None]
    cost = sum(COST_PAPER if modes[i] == "papier" else COST_TRANSMITTED for i in processed)
    results: dict[str, Any] = {
        "scenario": scenario.name,
        "lots": lots,
        "fse": fse,
        "notices": notices,
        "payments": [],
        "aids": sorted(
            (
                {"ps": a.ps_id, "kind": a.kind, "on": a.granted_on, "amount": euros(a.amount_cents)}
                for a in aids
            ),
            key=lambda a: (a["on"], a["ps"], a["kind"]),
        ),
        "documents": _documents(documents),
        "totals": {
            "fse": len(fse),
            "accord": counts["accord"],
            "rejet": counts["rejet"],
            "litigieuse": counts["litigieuse"],
            "lot_refused": sum(1 for e in fse.values() if e["status"] == "lot_refused"),
            "paid": 0.0,
            "recovered": 0.0,
            "cost_caisse": euros(cost),
        },
    }
    if notes:
        results["notes"] = notes
    if missing:
        results["lost"] = missing
    if refused_documents:
        results["documents_refused"] = dict(sorted(refused_documents.items()))
    return results


def _documents(stored: Iterable[DocumentStored]) -> dict[str, dict[str, Any]]:
    entries = {}
    for event in sorted(stored, key=lambda e: e.document.metadata.document_id):
        info = event.document
        entries[info.metadata.document_id] = {
            "fse": info.metadata.fse_id,
            "stored_on": info.stored_on,
            "exploitable": info.exploitable,
            "kind": info.metadata.kind,
            "channel": info.metadata.channel,
            "quality_reason": info.quality_reason or None,
        }
    return entries
