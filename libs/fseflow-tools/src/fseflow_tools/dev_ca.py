"""The development CA (``fseflow certs``). Certificates: the analogue of Scor's nominative smart cards (R14).

Every client of scor-store presents a certificate signed by the deployment's CA; the habilitation
travels inside it as URI subject alternative names, so the server needs no directory to decide:

    urn:fseflow:role:technician      + urn:fseflow:organism:01-331   a caisse technician
    urn:fseflow:role:professional    + urn:fseflow:ps:ps-1           a professional
    urn:fseflow:role:service         + urn:fseflow:service:ingest    a service of the pipeline

``fseflow certs`` creates a development CA and certificates with these; production would use its
own PKI with the same URIs.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fseflow.habilitation import PREFIX, ROLES, CertificateError, Habilitation, habilitation_from_uris
from fseflow.topics import check_organism
from fseflow.vocabulary.names import SAFE_ID_RULE, is_safe_id

__all__ = [
    "CertificateError",
    "Habilitation",
    "Issued",
    "check_ps_id",
    "create_ca",
    "development_set",
    "habilitation_of",
    "issue",
]

SERVICE_CLIENTS = ("ingest", "pointage", "relances", "operator")


def check_ps_id(ps_id: str) -> str:
    """A professional's id names a file (professional-<id>.crt) and ends a URN."""
    if not is_safe_id(ps_id):
        raise CertificateError(f"{ps_id!r} is not a professional id: {SAFE_ID_RULE}")
    return ps_id


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_ca(directory: Path, name: str = "fseflow development CA") -> Issued:
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    issued = Issued(directory / "ca.crt", directory / "ca.key")
    issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, issued.key)
    return issued


def issue(
    ca: Issued,
    directory: Path,
    name: str,
    *,
    role: str,
    service: str = "",
    organism: str = "",
    ps_id: str = "",
    server_names: tuple[str, ...] = (),
    valid_days: int = 825,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A certificate for ``name`` carrying the habilitation; ``server_names`` makes it a server's."""
    if role not in ROLES:
        raise CertificateError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if organism:
        try:
            check_organism(organism)
        except ValueError as exc:
            raise CertificateError(str(exc)) from None
    if ps_id:
        check_ps_id(ps_id)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(f"{PREFIX}role:{role}")]
    for kind, value in (("service", service), ("organism", organism), ("ps", ps_id)):
        if value:
            names.append(x509.UniformResourceIdentifier(f"{PREFIX}{kind}:{value}"))
    for server in server_names:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(server)))
        except ValueError:
            names.append(x509.DNSName(server))
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server_names else [])
    expires = not_after or _now() + dt.timedelta(days=valid_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(expires, _now()) - dt.timedelta(days=1))
        .not_valid_after(expires)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    issued = Issued(directory / f"{name}.crt", directory / f"{name}.key")
    issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, issued.key)
    return issued


def habilitation_of(pem: bytes) -> Habilitation:
    """Read the habilitation from a PEM certificate; CertificateError if it carries none."""
    cert = x509.load_pem_x509_certificate(pem)
    subject = cert.subject.rfc4514_string()
    try:
        uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.UniformResourceIdentifier
        )
    except x509.ExtensionNotFound:
        raise CertificateError(f"{subject}: no habilitation in the certificate") from None
    return habilitation_from_uris(subject, list(uris))


def development_set(
    directory: Path, server_names: tuple[str, ...] = ("localhost", "127.0.0.1", "scor-store")
) -> Issued:
    """The CA, scor-store's server certificate and one client certificate per service (idempotent)."""
    ca = Issued(directory / "ca.crt", directory / "ca.key")
    if not ca.cert.exists():
        ca = create_ca(directory)
    if not (directory / "scor-store.crt").exists():
        issue(ca, directory, "scor-store", role="service", service="scor-store", server_names=server_names)
    for service in SERVICE_CLIENTS:
        if not (directory / f"{service}.crt").exists():
            issue(ca, directory, service, role="service", service=service)
    return ca
