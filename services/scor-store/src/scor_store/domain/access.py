"""Who may do what with a document (R14: nominative card, specific habilitations, strictly
partitioned by the insured's organism). A denial never says whether the document exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from fseflow.habilitation import Habilitation

PROFESSIONAL_READ_DAYS = 90  # with Scor the professional keeps (and may read) documents 90 days (R12)


class Action(StrEnum):
    PUT = "put"
    GET = "get"
    STAT = "stat"
    VERIFY = "verify"
    LIST = "list"


# What each service of the pipeline needs, and no more.
SERVICE_RIGHTS: dict[str, frozenset[Action]] = {
    "ingest": frozenset({Action.PUT, Action.STAT}),
    "pointage": frozenset({Action.GET, Action.STAT, Action.LIST, Action.VERIFY}),
    "relances": frozenset({Action.STAT, Action.LIST}),
    "operator": frozenset(Action),
}
READ_ACTIONS = frozenset({Action.GET, Action.STAT, Action.VERIFY, Action.LIST})


@dataclass(frozen=True)
class DocumentFacts:
    ps_id: str
    insured_organism: str
    received_on: date


@dataclass(frozen=True)
class Decision:
    granted: bool
    reason: str


def decide(who: Habilitation, action: Action, document: DocumentFacts | None, today: date | None) -> Decision:
    """``document`` is None for a document that does not exist (or a put of a new one)."""
    if who.role == "service":
        rights = SERVICE_RIGHTS.get(who.service, frozenset())
        if action in rights:
            return Decision(True, f"service {who.service} may {action}")
        return Decision(False, f"service {who.service!r} may not {action}")
    if action not in READ_ACTIONS:
        return Decision(False, f"a {who.role} may not {action}")
    if document is None:
        return Decision(False, "no such document in the caller's scope")
    if who.role == "technician":
        if who.organism and document.insured_organism == who.organism:
            return Decision(True, f"technician of {who.organism}")
        return Decision(False, f"the insured belongs to another organism than {who.organism!r}")
    if who.role == "professional":
        if action is Action.VERIFY or document.ps_id != who.ps_id:
            return Decision(False, "not one of the professional's own documents")
        limit = document.received_on + timedelta(days=PROFESSIONAL_READ_DAYS)
        if today is not None and today > limit:
            return Decision(False, f"the professional's {PROFESSIONAL_READ_DAYS} days ended on {limit}")
        return Decision(True, "the professional's own document")
    return Decision(False, f"unknown role {who.role!r}")


def sees_everything(who: Habilitation, action: Action) -> bool:
    """Roles that may learn that a document does not exist (NOT_FOUND rather than DENIED)."""
    return who.role == "service" and action in SERVICE_RIGHTS.get(who.service, frozenset())
