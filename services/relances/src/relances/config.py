"""Settings of relances (environment variables, see README)."""

from __future__ import annotations

from fseflow.settings import DayCloseSettings, ServiceSettings


class Settings(ServiceSettings, DayCloseSettings):
    metrics_port: int = 9105
    # Records per intake batch (one PostgreSQL transaction).
    relances_max_batch: int = 5000
