"""How an act is named in the notices sent to professionals (relances, recoveries)."""

from __future__ import annotations

from fseflow.contracts.claims.v1.claims_pb2 import ActLine


def act_label(act: ActLine) -> str:
    """``AMI 2 du 2026-03-02``: code, coefficient and day, which is how a nurse finds the act."""
    return f"{act.code} {act.coefficient} du {act.performed_on}"
