"""Settings of the ingest service (environment variables, see README)."""

from __future__ import annotations

from pathlib import Path

from fseflow.settings import ServiceSettings
from fseflow.vocabulary.documents import DEFAULT_MAX_BYTES


class Settings(ServiceSettings):
    # Loopback unless set: a container sets GRPC_HOST=0.0.0.0 (the CTI front door serves the network).
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    metrics_port: int = 9101
    db_pool_max: int = 24
    # The national document store, reached with ingest's own certificate (mTLS).
    scor_addr: str = "127.0.0.1:50052"
    scor_tls_ca: Path
    scor_tls_cert: Path
    scor_tls_key: Path
    scor_max_document_bytes: int = DEFAULT_MAX_BYTES
    # Documents of one lot stored in parallel.
    scor_put_concurrency: int = 8
