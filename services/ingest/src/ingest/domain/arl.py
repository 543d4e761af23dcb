"""The ARL as the professional reads it: plain French (R1)."""

from __future__ import annotations

from datetime import date

from ingest.domain.validation import LotProblem

_FRENCH = {
    "PS_UNKNOWN": "professionnel inconnu",
    "LOT_DUPLICATE": "numéro de lot déjà reçu",
    "LOT_EMPTY": "lot vide",
    "FIELD_MISSING": "champ manquant",
    "FIELD_MALFORMED": "champ mal formé",
    "FSE_ID_DUPLICATE": "numéro de FSE en double dans le lot",
    "ORGANISM_UNROUTABLE": "organisme sans centre informatique",
    "ATTACHMENT_UNREFERENCED": "pièce jointe sans feuille de soins",
    "DOCUMENT_REJECTED": "pièce jointe refusée (format ou taille)",
    "ARL_TRUNCATED": "autres anomalies non listées",
}


def positive_text(lot_id: str, day: date, accepted: int, cti_name: str) -> str:
    return (
        f"Accusé de réception logique positif : lot {lot_id} reçu le {day:%d/%m/%Y}, "
        f"{accepted} feuille(s) de soins transmise(s) au contrôle du {cti_name}."
    )


def negative_text(lot_id: str, day: date | None, problems: list[LotProblem]) -> str:
    listed = "; ".join(f"{_FRENCH.get(p.code, p.code)} ({p.field})" for p in problems)
    received = f" reçu le {day:%d/%m/%Y}" if day is not None else ""
    return (
        f"Accusé de réception logique négatif : le lot {lot_id or '(sans numéro)'}{received} "
        f"n'est pas traité ({listed}). Corrigez-le puis renvoyez-le."
    )
