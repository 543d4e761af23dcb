"""Reminder and undue-payment notices in plain French: which FSE, which acts, which amount, what
to do and by when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


def euros(cents: int) -> str:
    return f"{cents / 100:.2f} €".replace(".", ",")


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _acts(acts: Sequence[str]) -> str:
    return ", ".join(acts) if acts else "les actes facturés"


def reminder(fse_id: str, acts: Sequence[str], amount_cents: int, paid_on: date, indu_on: date) -> str:
    return (
        f"Relance : la pièce justificative de votre facture {fse_id} ({_acts(acts)}), payée "
        f"{euros(amount_cents)} le {_day(paid_on)}, ne nous est pas parvenue. Envoyez-la par Scor "
        f"(ou par courrier) avant le {_day(indu_on)} ; sans elle, la somme vous sera réclamée."
    )


def indu(fse_id: str, acts: Sequence[str], amount_cents: int, paid_on: date, recover_on: date) -> str:
    return (
        f"Notification d'indu : faute de pièce justificative pour votre facture {fse_id} "
        f"({_acts(acts)}), payée le {_day(paid_on)}, la somme de {euros(amount_cents)} est due. "
        f"Elle sera retenue sur vos paiements à partir du {_day(recover_on)}, sauf si la pièce nous "
        f"parvient d'ici là."
    )


def hospital_indu(
    fse_id: str, acts: Sequence[str], amount_cents: int, stay: tuple[date, date], recover_on: date
) -> str:
    return (
        f"Notification d'indu : votre facture {fse_id} ({_acts(acts)}) porte sur des soins "
        f"pendant une hospitalisation du patient du {_day(stay[0])} au {_day(stay[1])}, à la "
        f"charge de l'établissement. La somme de {euros(amount_cents)} sera retenue sur vos "
        f"paiements à partir du {_day(recover_on)}. Vous pouvez contester auprès de votre caisse "
        f"d'ici là."
    )
