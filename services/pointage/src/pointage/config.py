"""Settings of pointage (environment variables, see README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator

from fseflow.settings import ServiceSettings


class Settings(ServiceSettings):
    metrics_port: int = 9103
    # The technicians' console and the decisions API (0: this replica serves none).
    # Loopback unless set: a container sets CONSOLE_HOST=0.0.0.0 (served to the caisse's network).
    console_host: str = "127.0.0.1"
    console_port: int = 8103
    # Bearer token of the decisions API for trusted callers (the caisse's systems, a replay).
    pointage_api_token: SecretStr
    # Signs the console's session cookies; defaults to a key derived from the API token.
    console_secret: SecretStr | None = None
    # The national document store, read with each technician's own certificate (R14).
    scor_addr: str = "127.0.0.1:50052"
    scor_tls_ca: Path | None = None
    technician_certs_dir: Path | None = None
    # Records per intake batch (one PostgreSQL transaction).
    pointage_max_batch: int = 5000

    @field_validator("pointage_api_token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value
