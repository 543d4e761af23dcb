"""Settings of pointage (environment variables, see README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from fseflow.settings import DayCloseSettings, ServiceSettings


class Settings(ServiceSettings, DayCloseSettings):
    metrics_port: int = 9103
    # The technicians' console and the decisions API (0: this replica serves none).
    # Loopback unless set: a container sets CONSOLE_HOST=0.0.0.0 (served to the caisse's network).
    console_host: str = "127.0.0.1"
    console_port: int = 8103
    # The API authenticates each technician by their own token (no shared token, D40); the
    # console's sessions are rows in PostgreSQL, this long (a working day).
    pointage_session_seconds: int = 10 * 3600
    # Failed logins allowed per technician id and per client address within the window (D42).
    pointage_login_max_failures: int = 5
    pointage_login_max_failures_per_client: int = 50
    pointage_login_window_seconds: int = 900
    # The national document store, read with each technician's own certificate (R14).
    scor_addr: str = "127.0.0.1:50052"
    scor_tls_ca: Path | None = None
    technician_certs_dir: Path | None = None
    # Records per intake batch (one PostgreSQL transaction).
    pointage_max_batch: int = 5000

    @field_validator(
        "pointage_session_seconds",
        "pointage_login_max_failures",
        "pointage_login_max_failures_per_client",
        "pointage_login_window_seconds",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value
