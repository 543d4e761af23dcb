"""Settings of scor-store (environment variables, see README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from fseflow.settings import ServiceSettings
from fseflow.vocabulary.documents import DEFAULT_MAX_BYTES


class Settings(ServiceSettings):
    metrics_port: int = 9104
    # Loopback unless set: a container sets GRPC_HOST=0.0.0.0 (the national server, mTLS only).
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50052
    # The server's certificate and the CA that signs every client's (mTLS, R14).
    scor_tls_cert: Path
    scor_tls_key: Path
    scor_tls_ca: Path
    # The two physical supports: two directories (two volumes on a cluster), comma-separated.
    scor_support_dirs: str
    # The key of the seals (keyed signatures), in a file readable by scor-store only.
    scor_seal_key_file: Path
    scor_max_document_bytes: int = DEFAULT_MAX_BYTES
    scor_fsync: bool = True

    @field_validator("scor_support_dirs")
    @classmethod
    def _two_supports(cls, value: str) -> str:
        if len([d for d in value.split(",") if d.strip()]) != 2:
            raise ValueError("must name exactly two directories, comma-separated")
        return value

    @property
    def supports(self) -> list[Path]:
        return [Path(d.strip()) for d in self.scor_support_dirs.split(",") if d.strip()]

    def seal_key(self) -> bytes:
        key = bytes.fromhex(self.scor_seal_key_file.read_text().strip())
        if len(key) < 32:
            raise ValueError("SCOR_SEAL_KEY_FILE: the key must be at least 32 bytes (64 hex digits)")
        return key
