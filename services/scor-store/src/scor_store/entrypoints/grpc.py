"""The national server's gRPC face: ScorStoreService and health, behind mutual TLS (R14).

A client without a certificate signed by the deployment's CA, or with an expired one, does not
get past the TLS handshake. The habilitation is read from the certificate's URI names.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from fseflow.contracts.scor.v1 import scor_pb2, scor_pb2_grpc
from fseflow.grpc_serving import GrpcServing
from fseflow.habilitation import CertificateError, Habilitation, habilitation_from_uris
from fseflow.vocabulary.documents import CHUNK_BYTES, RejectedDocument
from scor_store.adapters.vault import DataLoss
from scor_store.config import Settings
from scor_store.handlers.documents import Conflict, Denied, InvalidRequest, NotFound, ScorStore

log = logging.getLogger(__name__)
SERVICE_NAME = scor_pb2.DESCRIPTOR.services_by_name["ScorStoreService"].full_name
_CODES: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (RejectedDocument, grpc.StatusCode.INVALID_ARGUMENT),
    (Denied, grpc.StatusCode.PERMISSION_DENIED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (DataLoss, grpc.StatusCode.DATA_LOSS),
]


async def _abort(context: grpc.aio.ServicerContext, error: BaseException) -> NoReturn:
    for kind, code in _CODES:
        if isinstance(error, kind):
            await context.abort(code, str(error))
    log.exception("unexpected error", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    raise AssertionError("unreachable")


def caller(context: grpc.aio.ServicerContext) -> Habilitation:
    auth = context.auth_context()
    subject = b"".join(auth.get("x509_subject", [b""])).decode()
    uris = [value.decode() for value in auth.get("x509_subject_alternative_name", [])]
    return habilitation_from_uris(subject or "(no subject)", uris)


class ScorServicer(scor_pb2_grpc.ScorStoreServiceServicer):  # type: ignore[misc]
    def __init__(self, store: ScorStore) -> None:
        self.store = store

    async def _who(self, context: grpc.aio.ServicerContext) -> Habilitation:
        try:
            return caller(context)
        except CertificateError as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            raise

    async def PutDocument(
        self, requests: AsyncIterator[scor_pb2.PutDocumentRequest], context: grpc.aio.ServicerContext
    ) -> scor_pb2.PutDocumentResponse:
        who = await self._who(context)
        metadata = None
        chunks: list[bytes] = []
        size = 0
        problem = ""
        async for message in requests:
            # Read the whole stream before refusing: a client still sending would not see the
            # status of an early abort, only a broken stream.
            if message.HasField("metadata"):
                problem = problem or ("metadata: sent twice" if metadata is not None else "")
                metadata = message.metadata
                continue
            problem = problem or ("" if metadata is not None else "metadata: the first message must carry it")
            size += len(message.chunk)
            if size > self.store.max_bytes:
                problem = problem or f"content: over the {self.store.max_bytes} bytes cap"
                chunks.clear()
            elif not problem:
                chunks.append(message.chunk)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        if metadata is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "metadata: missing")
            raise AssertionError("unreachable")
        try:
            info, already = await self.store.put(who, metadata, b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - mapped to a gRPC status
            await _abort(context, exc)
        return scor_pb2.PutDocumentResponse(document=info, already_stored=already)

    async def GetDocument(
        self, request: scor_pb2.GetDocumentRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[scor_pb2.GetDocumentResponse]:
        who = await self._who(context)
        try:
            info, content = await self.store.get(who, request.world, request.document_id)
        except Exception as exc:  # noqa: BLE001
            await _abort(context, exc)
        yield scor_pb2.GetDocumentResponse(info=info)
        for start in range(0, len(content), CHUNK_BYTES):
            yield scor_pb2.GetDocumentResponse(chunk=content[start : start + CHUNK_BYTES])

    async def StatDocument(
        self, request: scor_pb2.StatDocumentRequest, context: grpc.aio.ServicerContext
    ) -> scor_pb2.StatDocumentResponse:
        who = await self._who(context)
        try:
            info = await self.store.stat(who, request.world, request.document_id)
        except Exception as exc:  # noqa: BLE001
            await _abort(context, exc)
        return scor_pb2.StatDocumentResponse(document=info)

    async def VerifyDocument(
        self, request: scor_pb2.VerifyDocumentRequest, context: grpc.aio.ServicerContext
    ) -> scor_pb2.VerifyDocumentResponse:
        who = await self._who(context)
        try:
            state, good, pieces, seal_ok = await self.store.verify(who, request.world, request.document_id)
        except Exception as exc:  # noqa: BLE001
            await _abort(context, exc)
        return scor_pb2.VerifyDocumentResponse(
            health=state,
            good_distinct_pieces=good,
            pieces=[
                scor_pb2.PieceHealth(support=s, piece=p, state=v) for (s, p), v in sorted(pieces.items())
            ],
            seal_ok=seal_ok,
        )

    async def ListDocuments(
        self, request: scor_pb2.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> scor_pb2.ListDocumentsResponse:
        who = await self._who(context)
        try:
            found = await self.store.list(who, request.world, fse_id=request.fse_id, ps_id=request.ps_id)
        except Exception as exc:  # noqa: BLE001
            await _abort(context, exc)
        return scor_pb2.ListDocumentsResponse(documents=found)


class ScorServer(GrpcServing):
    def __init__(self, store: ScorStore, settings: Settings) -> None:
        options = [
            ("grpc.max_receive_message_length", 2 * CHUNK_BYTES),
            ("grpc.max_send_message_length", 2 * CHUNK_BYTES),
        ]
        server = grpc.aio.server(options=options)
        scor_pb2_grpc.add_ScorStoreServiceServicer_to_server(ScorServicer(store), server)
        super().__init__(server, SERVICE_NAME, "Scor store (mutual TLS)")
        credentials = grpc.ssl_server_credentials(
            [(settings.scor_tls_key.read_bytes(), settings.scor_tls_cert.read_bytes())],
            root_certificates=settings.scor_tls_ca.read_bytes(),
            require_client_auth=True,
        )
        self.address = f"{settings.grpc_host}:{settings.grpc_port}"
        server.add_secure_port(self.address, credentials)
