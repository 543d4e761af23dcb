"""Compagnon Flux Tiers (R6): a short plain-language French explanation of each rejet reason —
what is wrong and how to fix it — e-mailed to enrolled professionals."""

from __future__ import annotations

from collections.abc import Iterable

# Every reason of the contract's classification table, rejets and litigieuses alike: a
# litigieuse decided rejet is explained by the reasons that sent it to the technician.
EXPLANATIONS: dict[str, str] = {
    "NIR_KEY": (
        "La clé du numéro de sécurité sociale ne correspond pas au numéro saisi. Vérifiez les "
        "13 chiffres et la clé sur la carte Vitale ou l'attestation du patient, puis renvoyez la "
        "facture corrigée."
    ),
    "PATIENT_UNKNOWN": (
        "Ce numéro de sécurité sociale n'existe pas dans la base des assurés. Vérifiez le numéro "
        "sur l'attestation de droits du patient ; s'il change de caisse, demandez-lui sa "
        "nouvelle attestation."
    ),
    "NO_RIGHTS": (
        "Le patient n'avait pas de droits ouverts à la date d'un des actes. Demandez-lui une "
        "attestation de droits à jour, puis renvoyez la facture."
    ),
    "PRESCRIBER_INVALID": (
        "Le numéro RPPS du prescripteur est faux (sa clé de contrôle ne correspond pas). "
        "Recopiez les 11 chiffres depuis l'ordonnance et renvoyez la facture."
    ),
    "PRESCRIBER_UNKNOWN": (
        "Le prescripteur n'est pas dans l'annuaire des professionnels. Vérifiez son numéro RPPS "
        "sur l'ordonnance."
    ),
    "ACT_CODE_UNKNOWN": (
        "Un code d'acte n'existe pas dans la nomenclature (NGAP). Corrigez le code (par exemple "
        "AMI, AIS, DI, IFD, IK) et renvoyez la facture."
    ),
    "COEF_INVALID": (
        "Un coefficient n'est pas autorisé pour cet acte. Reprenez le coefficient prévu par la "
        "nomenclature et renvoyez la facture."
    ),
    "ACT_IN_FUTURE": (
        "Un acte est daté après le jour de l'envoi. Corrigez la date de l'acte ; un acte ne peut "
        "être facturé qu'une fois réalisé."
    ),
    "REPLACEMENT_MODE": (
        "En tant que remplaçant(e), vous facturez sur feuille de soins papier au nom du "
        "professionnel remplacé, pas en télétransmission. Renvoyez une feuille papier."
    ),
    "DUPLICATE": (
        "Cet acte a déjà été payé pour ce patient à cette date. Si c'est une erreur de saisie, "
        "corrigez la date ou le code ; sinon, n'envoyez pas la facture une seconde fois."
    ),
    "TOO_MANY_LINES": (
        "Une feuille de soins papier compte au plus six lignes d'actes. Répartissez les actes "
        "sur plusieurs feuilles."
    ),
    "ALD_NOT_ELIGIBLE": (
        "L'exonération ALD est demandée mais le patient n'est pas reconnu en affection de longue "
        "durée. Facturez sans exonération, ou demandez au patient son protocole de soins."
    ),
    "DURING_HOSPITAL_STAY": (
        "Un acte tombe pendant une hospitalisation du patient : ces soins sont à la charge de "
        "l'établissement. Vérifiez les dates de l'acte."
    ),
    "AIS3_DAILY_LIMIT": (
        "Le nombre de séances AIS 3 facturées pour ce patient ce jour-là dépasse la limite de "
        "quatre. Vérifiez le nombre de séances réalisées."
    ),
    "SIGNATURE_NOT_EXEMPT": (
        "La mention « impossibilité de signer » n'est admise que pour un patient dispensé de "
        "signature. Faites signer la feuille de soins par le patient et envoyez-la."
    ),
    "DI_WITHOUT_PRESCRIPTION": (
        "La démarche de soins infirmiers (DI) doit être prescrite. Indiquez le prescripteur et "
        "envoyez l'ordonnance."
    ),
    "TOO_MANY_ACTS": (
        "Une feuille de soins compte au plus 250 lignes d'actes. Répartissez les actes sur "
        "plusieurs factures, par exemple une par semaine de soins."
    ),
    "DUPLICATE_LINE": (
        "Le même acte (code, coefficient et date) figure deux fois sur la facture. Supprimez la "
        "ligne en double, ou corrigez le code ou la date, et renvoyez la facture."
    ),
}


def rejet_notice(fse_id: str, reasons: Iterable[str]) -> str:
    """The e-mail for an FSE rejected by the national check, delivered to the pôle."""
    lines = [f"Votre facture {fse_id} a été rejetée et ne sera pas payée en l'état."]
    lines += [f"- {EXPLANATIONS[reason]}" for reason in reasons if reason in EXPLANATIONS]
    lines.append("Renvoyez une facture corrigée : elle remplacera celle-ci.")
    return "\n".join(lines)


def decided_rejet_notice(fse_id: str, reasons: Iterable[str], technician: str) -> str:
    """The e-mail for a litigieuse that a technician of the pôle decided to reject (R5)."""
    lines = [
        f"Après examen de votre facture {fse_id} et de ses pièces par la caisse ({technician}), "
        "elle a été rejetée."
    ]
    lines += [f"- {EXPLANATIONS[reason]}" for reason in reasons if reason in EXPLANATIONS]
    lines.append("Renvoyez une facture corrigée : elle remplacera celle-ci.")
    return "\n".join(lines)
