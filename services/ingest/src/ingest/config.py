"""Settings of the ingest service (environment variables, see README)."""

from __future__ import annotations

from fseflow.settings import ServiceSettings


class Settings(ServiceSettings):
    grpc_host: str = "0.0.0.0"  # noqa: S104 - the CTI front door serves the network
    grpc_port: int = 50051
    metrics_port: int = 9101
    db_pool_max: int = 24
