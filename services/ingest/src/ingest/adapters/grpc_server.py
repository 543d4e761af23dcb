"""The gRPC front door: LotIngestService, health and reflection."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from fseflow.cti.v1 import ingest_pb2, ingest_pb2_grpc
from fseflow.grpc_serving import GrpcServing
from ingest.adapters.scor_client import DocumentRefused
from ingest.handlers import InvalidSubmission, LotReceiver, NoOpenDay

log = logging.getLogger(__name__)

SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["LotIngestService"].full_name


class LotIngestServicer(ingest_pb2_grpc.LotIngestServiceServicer):  # type: ignore[misc]
    def __init__(self, receiver: LotReceiver) -> None:
        self._receiver = receiver

    async def SubmitLot(
        self, request: ingest_pb2.SubmitLotRequest, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.SubmitLotResponse:
        try:
            arl = await self._receiver.submit(request)
        except NoOpenDay as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except Exception as exc:
            # Nothing was registered (the transaction rolled back): the caller may resend.
            log.exception("lot %s not taken in", request.lot.lot_id)
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"lot not taken in, resend it: {exc}")
        return ingest_pb2.SubmitLotResponse(arl=arl)

    async def SubmitDocument(
        self,
        requests: AsyncIterator[ingest_pb2.SubmitDocumentRequest],
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.SubmitDocumentResponse:
        submission = None
        chunks: list[bytes] = []
        size = 0
        async for message in requests:
            # The whole stream is read before refusing (an early abort reaches a sending client
            # as a broken stream, not as the reason).
            if message.HasField("metadata"):
                submission = message.metadata
                continue
            size += len(message.chunk)
            if size <= self._receiver.max_document_bytes:
                chunks.append(message.chunk)
            else:
                chunks.clear()
        if size > self._receiver.max_document_bytes:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"content: over the {self._receiver.max_document_bytes} bytes cap",
            )
        if submission is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "metadata: the first message must carry it")
            raise AssertionError("unreachable")
        try:
            return await self._receiver.submit_document(submission, b"".join(chunks))
        except (InvalidSubmission, DocumentRefused) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except NoOpenDay as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except Exception as exc:
            log.exception("document %s not taken in", submission.document_id)
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"document not taken in, resend it: {exc}")
        raise AssertionError("unreachable")


class GrpcFrontDoor(GrpcServing):
    def __init__(self, receiver: LotReceiver, host: str, port: int) -> None:
        server = grpc.aio.server(
            interceptors=[aio_server_interceptor()],
            options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
        )
        ingest_pb2_grpc.add_LotIngestServiceServicer_to_server(LotIngestServicer(receiver), server)
        super().__init__(server, SERVICE_NAME, "gRPC front door")
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        self.address = f"{host}:{port}"
        server.add_insecure_port(self.address)
