"""A client certificate's habilitation (R14), as scor-store reads it from the TLS peer.

The habilitation travels inside the certificate as URI subject alternative names:

    urn:fseflow:role:technician      + urn:fseflow:organism:01-331   a caisse technician
    urn:fseflow:role:professional    + urn:fseflow:ps:ps-1           a professional
    urn:fseflow:role:service         + urn:fseflow:service:ingest    a service of the pipeline

The development CA that issues such certificates is a tool (``fseflow_tools.dev_ca``).
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "urn:fseflow:"
ROLES = ("service", "technician", "professional")


class CertificateError(ValueError):
    pass


@dataclass(frozen=True)
class Habilitation:
    """Who a certificate says its holder is, and for what."""

    subject: str
    role: str
    service: str = ""
    organism: str = ""
    ps_id: str = ""

    @property
    def label(self) -> str:
        scope = self.service or self.organism or self.ps_id
        return f"{self.role}:{scope}" if scope else self.role


def habilitation_from_uris(subject: str, uris: list[str]) -> Habilitation:
    """The habilitation from a certificate's URI names (as gRPC's auth context gives them)."""
    fields = {}
    for uri in uris:
        if uri.startswith(PREFIX):
            kind, _, value = uri.removeprefix(PREFIX).partition(":")
            fields[kind] = value
    role = fields.get("role", "")
    if role not in ROLES:
        raise CertificateError(f"{subject}: no known role in the certificate")
    return Habilitation(
        subject=subject,
        role=role,
        service=fields.get("service", ""),
        organism=fields.get("organism", ""),
        ps_id=fields.get("ps", ""),
    )
