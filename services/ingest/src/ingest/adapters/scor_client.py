"""ingest as a client of the national document store: mTLS with ingest's service certificate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from fseflow.contracts.scor.v1 import scor_pb2, scor_pb2_grpc
from fseflow.scor_channel import secure_channel
from fseflow.vocabulary.documents import CHUNK_BYTES


class DocumentRefused(ValueError):
    """scor-store refused the document (INVALID_ARGUMENT / ALREADY_EXISTS): its words."""


class ScorClient:
    def __init__(self, address: str, *, ca: Path, cert: Path, key: Path) -> None:
        self._channel = secure_channel(address, ca=ca, cert=cert, key=key)
        self._stub = scor_pb2_grpc.ScorStoreServiceStub(self._channel)

    async def put(self, metadata: scor_pb2.DocumentMetadata, content: bytes) -> scor_pb2.DocumentInfo:
        async def messages() -> AsyncIterator[scor_pb2.PutDocumentRequest]:
            yield scor_pb2.PutDocumentRequest(metadata=metadata)
            for start in range(0, len(content), CHUNK_BYTES):
                yield scor_pb2.PutDocumentRequest(chunk=content[start : start + CHUNK_BYTES])

        try:
            response = await self._stub.PutDocument(messages(), timeout=60)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS):
                raise DocumentRefused(exc.details() or str(exc.code())) from exc
            raise
        document: scor_pb2.DocumentInfo = response.document
        return document

    async def close(self) -> None:
        await self._channel.close()
