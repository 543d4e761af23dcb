"""The results file of the replay contract, built from what the pipeline published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import Arl, ArlIssued
from fseflow.contracts.pointage.v1.pointage_pb2 import (
    AccordsValidated,
    DocumentMatched,
    FseDelivered,
    FseReplaced,
    LitigieuseDecided,
    NoticeSent,
    PaymentMade,
)
from fseflow.contracts.relances.v1.relances_pb2 import FseOverdue
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted, DocumentStored
from fseflow.vocabulary.verdicts import classification_name, reason_name
from fseflow_tools.replay.scenario import Event, Scenario

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


@dataclass
class PoleView:
    """What the pôles published about each FSE (per-caisse topics)."""

    delivered: dict[str, FseDelivered] = field(default_factory=dict)
    validated: dict[str, tuple[str, str]] = field(default_factory=dict)  # fse -> (validated_on, pay_on)
    decided: dict[str, LitigieuseDecided] = field(default_factory=dict)
    replaced: dict[str, FseReplaced] = field(default_factory=dict)
    paid_on: dict[str, str] = field(default_factory=dict)
    matched_on: dict[str, str] = field(default_factory=dict)
    payments: list[PaymentMade] = field(default_factory=list)
    notices: list[NoticeSent] = field(default_factory=list)
    # The relances (R13, R22).
    overdue_on: dict[str, str] = field(default_factory=dict)
    notified: dict[tuple[str, str], str] = field(default_factory=dict)  # (fse, kind) -> first day
    recovered: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # fse -> (day, cents)
    aids: list[AidGranted] = field(default_factory=list)

    @classmethod
    def of(cls, messages: Iterable[Message]) -> PoleView:
        view = cls()
        for m in messages:
            if isinstance(m, FseDelivered):
                view.delivered[m.fse_id] = m
            elif isinstance(m, AccordsValidated):
                for item in m.fse:
                    view.validated[item.fse_id] = (m.validated_on, item.pay_on)
            elif isinstance(m, LitigieuseDecided):
                view.decided[m.fse_id] = m
            elif isinstance(m, FseReplaced):
                view.replaced[m.fse_id] = m
            elif isinstance(m, PaymentMade):
                view.payments.append(m)
                for line in m.lines:
                    view.paid_on[line.fse_id] = m.paid_on
                for recovery in m.recoveries:
                    view.recovered.setdefault(recovery.fse_id, []).append((m.paid_on, recovery.amount_cents))
            elif isinstance(m, DocumentMatched):
                known = view.matched_on.get(m.fse_id)
                view.matched_on[m.fse_id] = min(known, m.matched_on) if known else m.matched_on
            elif isinstance(m, NoticeSent):
                view.notices.append(m)
                key = (m.fse_id, m.kind)
                view.notified[key] = min(view.notified.get(key, m.sent_on), m.sent_on)
            elif isinstance(m, FseOverdue):
                view.overdue_on[m.fse_id] = m.overdue_on
            elif isinstance(m, AidGranted):
                view.aids.append(m)
        return view

    def timeline(self, fse_id: str, classification: str) -> dict[str, Any]:
        """delivered_on, decided_on, status, paid_on, document_matched_on, replaced_by."""
        delivered = self.delivered.get(fse_id)
        entry: dict[str, Any] = {
            "status": _STATUS[classification],
            "delivered_on": delivered.delivered_on if delivered else None,
            "decided_on": None,
            "paid_on": self.paid_on.get(fse_id),
            "document_matched_on": self.matched_on.get(fse_id),
        }
        if classification == "rejet" and delivered is not None:
            # The national check decided; the pôle takes it on delivery (and Compagnon explains).
            entry["decided_on"] = delivered.delivered_on
        if fse_id in self.validated:
            entry.update(status="validated", decided_on=self.validated[fse_id][0])
        decided = self.decided.get(fse_id)
        if decided is not None:
            entry.update(
                status="validated" if decided.outcome == "accord" else "rejected",
                decided_on=decided.decided_on,
                decided_by=decided.technician,
            )
        if entry["paid_on"] is not None:
            entry["status"] = "paid"
        replaced = self.replaced.get(fse_id)
        if replaced is not None:
            entry.update(status="replaced", replaced_by=replaced.replaced_by)
        recovered = sorted(self.recovered.get(fse_id, ()))
        entry.update(
            overdue_on=self.overdue_on.get(fse_id),
            reminder_on=self.notified.get((fse_id, "reminder")),
            indu_on=self.notified.get((fse_id, "indu")),
            recovered_on=recovered[0][0] if recovered else None,
            recovered_amount=euros(sum(cents for _, cents in recovered)),
        )
        if entry["status"] == "paid" and entry["overdue_on"] and not entry["document_matched_on"]:
            entry["status"] = "overdue"  # J30 passed, still no document (contract: status overdue)
        return entry


def build(
    scenario: Scenario,
    submissions: Iterable[Submission],
    classified: Iterable[FseClassified],
    arl_notices: Iterable[ArlIssued],
    notes: list[str] | None = None,
    *,
    documents: Iterable[DocumentStored] = (),
    aids: Iterable[AidGranted] = (),
    pole: Iterable[Message] = (),
    refused_documents: dict[str, str] | None = None,
    refused_decisions: dict[str, str] | None = None,
) -> dict[str, Any]:
    view = PoleView.of(pole)
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
                amount=euros(verdict.amount_cents),
                cti=verdict.cti,
                checked_on=verdict.checked_on,
            )
            entry.update(view.timeline(ident, outcome))
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
    notices += [
        {"to": n.ps_id, "kind": n.kind, "on": n.sent_on, "fse": n.fse_id, "lot": None, "text": n.text}
        for n in view.notices
    ]
    notices.sort(key=lambda n: (n["on"] or "", n["kind"], n["to"], n["fse"] or "", n["lot"] or ""))
    payments = sorted(
        (
            {
                "ps": p.ps_id,
                "on": p.paid_on,
                "gross": euros(p.gross_cents),
                "offset": euros(p.offset_cents),
                "net": euros(p.net_cents),
                "fse": [line.fse_id for line in p.lines],
            }
            for p in view.payments
        ),
        key=lambda p: (p["on"], p["ps"]),
    )
    counts = Counter(entry["classification"] for entry in fse.values())
    processed = [ident for ident, entry in fse.items() if entry["classification"] is not None]
    cost = sum(COST_PAPER if modes[i] == "papier" else COST_TRANSMITTED for i in processed)
    results: dict[str, Any] = {
        "scenario": scenario.name,
        "lots": lots,
        "fse": fse,
        "notices": notices,
        "payments": payments,
        "aids": sorted(
            (
                {"ps": a.ps_id, "kind": a.kind, "on": a.granted_on, "amount": euros(a.amount_cents)}
                for a in (*aids, *view.aids)
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
            "paid": euros(sum(p.gross_cents for p in view.payments)),
            "recovered": euros(sum(p.offset_cents for p in view.payments)),
            "cost_caisse": euros(cost),
        },
    }
    if notes:
        results["notes"] = notes
    if missing:
        results["lost"] = missing
    if refused_documents:
        results["documents_refused"] = dict(sorted(refused_documents.items()))
    if refused_decisions:
        results["decisions_refused"] = dict(sorted(refused_decisions.items()))
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
