"""A gRPC channel to the national document store, authenticated by a client certificate (mTLS).

Services present their service certificate; pointage's console presents the technician's own.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from fseflow.vocabulary.documents import CHUNK_BYTES


def secure_channel(address: str, *, ca: Path, cert: Path, key: Path) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(ca.read_bytes(), key.read_bytes(), cert.read_bytes())
    return grpc.aio.secure_channel(
        address,
        credentials,
        options=[
            ("grpc.max_send_message_length", 2 * CHUNK_BYTES),
            ("grpc.max_receive_message_length", 2 * CHUNK_BYTES),
        ],
    )
