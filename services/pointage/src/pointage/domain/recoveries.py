"""Recoveries by offset (R13): what a professional's payment takes back of what they owe.

A recovery is due from its day on the professional's first payment on or after it; what that
payment cannot cover is carried to the next ones, oldest first. A "document" recovery is
cancelled when the document was matched by its recovery day (the contract: a document matched
before a step cancels that step, including a notified indu); once it has started, it runs to the
end.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class OpenRecovery:
    fse_id: str
    kind: str
    amount_cents: int
    applied_cents: int
    recover_on: date
    cancellable: bool
    document_matched_on: date | None

    @property
    def remaining_cents(self) -> int:
        return self.amount_cents - self.applied_cents


@dataclass(frozen=True)
class Offset:
    fse_id: str
    kind: str
    amount_cents: int  # taken from this payment
    remaining_cents: int  # still owed after it
    owed_cents: int  # the whole recovery


@dataclass
class Settlement:
    offsets: list[Offset] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    @property
    def offset_cents(self) -> int:
        return sum(o.amount_cents for o in self.offsets)


def cancelled_by_document(recovery: OpenRecovery) -> bool:
    return (
        recovery.cancellable
        and recovery.applied_cents == 0
        and recovery.document_matched_on is not None
        and recovery.document_matched_on <= recovery.recover_on
    )


def settle(gross_cents: int, recoveries: Sequence[OpenRecovery]) -> Settlement:
    """Offsets on one payment of ``gross_cents``; ``recoveries`` are the professional's open ones
    due by the payment day, in the order they must be taken (recovery day, then FSE id)."""
    settlement = Settlement()
    available = gross_cents
    for recovery in recoveries:
        if cancelled_by_document(recovery):
            settlement.cancelled.append(recovery.fse_id)
            continue
        if available <= 0 or recovery.remaining_cents <= 0:
            continue
        taken = min(available, recovery.remaining_cents)
        available -= taken
        settlement.offsets.append(
            Offset(
                recovery.fse_id,
                recovery.kind,
                taken,
                recovery.remaining_cents - taken,
                recovery.amount_cents,
            )
        )
    return settlement


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f} €".replace(".", ",")


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later, or the last day of that month when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def notice_text(offset: Offset, acts: Sequence[str], paid_on: date) -> str:
    """The notice of a recovery taken from a payment (R13): which FSE and acts, how much, what is
    left, and until when the professional can contest it (two months, the delay of the caisse's
    amicable appeal board)."""
    on = paid_on.strftime("%d/%m/%Y")
    billed = ", ".join(acts) if acts else "les actes facturés"
    text = (
        f"Récupération d'indu : {_euros(offset.amount_cents)} ont été retenus sur votre paiement du "
        f"{on} au titre de l'indu de {_euros(offset.owed_cents)} de votre facture {offset.fse_id} "
        f"({billed})."
    )
    if offset.remaining_cents:
        text += f" Il reste {_euros(offset.remaining_cents)} à récupérer sur vos prochains paiements."
    else:
        text += " Cet indu est soldé."
    deadline = months_later(paid_on, 2).strftime("%d/%m/%Y")
    return text + (
        " Aucune démarche n'est nécessaire ; pour contester, saisissez la commission de recours "
        f"amiable de votre caisse avant le {deadline}."
    )
