"""Names of the CTI's verdicts as the replay contract and the pôle write them."""

from __future__ import annotations

from fseflow.contracts.cti.v1.classification_pb2 import Classification, Reason


def classification_name(value: int) -> str:
    """CLASSIFICATION_ACCORD -> "accord"."""
    return Classification.Name(value).removeprefix("CLASSIFICATION_").lower()


def reason_name(value: int) -> str:
    """REASON_NIR_KEY -> "NIR_KEY"."""
    return Reason.Name(value).removeprefix("REASON_")
