"""Protobuf <-> domain: the FseReceived event as a Claim, the Verdict as an FseClassified."""

from __future__ import annotations

from fseflow.contracts.claims.v1.claims_pb2 import BillingMode
from fseflow.contracts.cti.v1 import classification_pb2 as pb
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.vocabulary.calendar import parse_day
from national_check.domain.claims import Act, Claim, Mode
from national_check.domain.classify import Outcome, Reason, Verdict

_MODES = {
    BillingMode.BILLING_MODE_SECURISE: Mode.SECURISE,
    BillingMode.BILLING_MODE_DEGRADE: Mode.DEGRADE,
    BillingMode.BILLING_MODE_PAPIER: Mode.PAPIER,
}
_OUTCOMES = {
    Outcome.ACCORD: pb.CLASSIFICATION_ACCORD,
    Outcome.REJET: pb.CLASSIFICATION_REJET,
    Outcome.LITIGIEUSE: pb.CLASSIFICATION_LITIGIEUSE,
}
_REASONS: dict[Reason, int] = {reason: pb.Reason.Value(f"REASON_{reason.value}") for reason in Reason}


class MalformedEvent(ValueError):
    pass


def _hundredths(text: str) -> int:
    whole, _, fraction = text.partition(".")
    # ASCII digits only: isdigit() and int() would take "４" (full-width) for 4.
    well_formed = text.isascii() and whole.isdigit() and (not fraction or fraction.isdigit())
    if not well_formed or len(fraction) > 2:
        raise MalformedEvent(f"coefficient: {text!r} is not a decimal with at most two decimals")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or "0")


def to_claim(event: FseReceived) -> Claim:
    fse = event.fse
    try:
        mode = _MODES[fse.mode]
        acts = tuple(
            Act(a.code, _hundredths(a.coefficient), parse_day(a.performed_on), tuple(a.complements))
            for a in fse.acts
        )
        received_on = parse_day(event.received_on)
    except KeyError:
        raise MalformedEvent(f"fse.mode: {fse.mode} is not a billing mode") from None
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from exc
    return Claim(
        fse_id=fse.fse_id,
        ps_id=event.ps_id,
        ps_is_replacing=bool(event.ps_replacing),
        nir=fse.nir,
        nir_key=fse.nir_key,
        mode=mode,
        prescriber=fse.prescriber,
        acts=acts,
        ald=fse.ald,
        signature_impossible=fse.signature_impossible,
        received_on=received_on,
    )


def to_classified(
    event: FseReceived, verdict: Verdict, *, patient_organism: str, source_event_id: str
) -> pb.FseClassified:
    return pb.FseClassified(
        world=event.world,
        fse_id=event.fse.fse_id,
        lot_id=event.lot_id,
        ps_id=event.ps_id,
        ps_organism=event.ps_organism,
        patient_organism=patient_organism,
        cti=event.cti,
        received_on=event.received_on,
        checked_on=event.received_on,
        classification=_OUTCOMES[verdict.outcome],
        reasons=[_REASONS[r] for r in verdict.reasons],  # type: ignore[misc]  # protoc stubs type enums narrowly
        amount_cents=verdict.amount_cents,
        source_event_id=source_event_id,
        received_at_ms=event.received_at_ms,
        fse=event.fse,
    )
