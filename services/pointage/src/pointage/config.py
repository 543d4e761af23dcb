"""Settings of pointage (environment variables, see README)."""

from __future__ import annotations

from fseflow.settings import ServiceSettings


class Settings(ServiceSettings):
    metrics_port: int = 9103
