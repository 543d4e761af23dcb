"""Reads a document from the national store with the technician's own certificate (R14): the
store decides, on the technician's habilitation, whether they may see it."""

from __future__ import annotations

from pathlib import Path

import grpc

from fseflow.contracts.scor.v1 import scor_pb2, scor_pb2_grpc
from fseflow.scor_channel import secure_channel


class DocumentUnavailable(Exception):
    """The store refused (not the technician's organism) or does not hold the document."""


class ScorReader:
    def __init__(self, address: str, ca: Path | None, certs_dir: Path | None) -> None:
        self.address = address
        self.ca = ca
        self.certs_dir = certs_dir

    def certificate_of(self, technician: str) -> tuple[Path, Path] | None:
        if self.certs_dir is None:
            return None
        cert, key = self.certs_dir / f"{technician}.crt", self.certs_dir / f"{technician}.key"
        return (cert, key) if cert.exists() and key.exists() else None

    async def get(self, technician: str, world: str, document_id: str) -> tuple[str, bytes]:
        """(content type, bytes) of the document, read as ``technician``."""
        credentials = self.certificate_of(technician)
        if credentials is None or self.ca is None:
            raise DocumentUnavailable(f"no certificate for technician {technician}")
        channel = secure_channel(self.address, ca=self.ca, cert=credentials[0], key=credentials[1])
        try:
            stub = scor_pb2_grpc.ScorStoreServiceStub(channel)
            content_type = "application/octet-stream"
            chunks = []
            call = stub.GetDocument(
                scor_pb2.GetDocumentRequest(world=world, document_id=document_id), timeout=30
            )
            async for message in call:
                if message.HasField("info"):
                    content_type = message.info.content_type or content_type
                else:
                    chunks.append(message.chunk)
            return content_type, b"".join(chunks)
        except grpc.aio.AioRpcError as exc:
            raise DocumentUnavailable(f"{exc.code().name}: {exc.details()}") from exc
        finally:
            await channel.close()
