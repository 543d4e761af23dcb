"""Settings of national-check (environment variables, see README)."""

from __future__ import annotations

from fseflow.settings import ServiceSettings


class Settings(ServiceSettings):
    metrics_port: int = 9102
    # One batch is one transaction: bigger batches, fewer round trips, longer replays on crash.
    check_max_batch: int = 2000
