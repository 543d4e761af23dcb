"""The gRPC front door: LotIngestService, health and reflection.

The service's handlers are registered by hand rather than with the generated
``add_LotIngestServiceServicer_to_server``: their request deserializer never raises, so a body
that is not a message of the method's type reaches the handler as ``Unreadable`` and is answered
INVALID_ARGUMENT (grpc answers UNKNOWN for a deserializer that raises). Statuses: failures.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from fseflow.contracts.cti.v1 import ingest_pb2
from fseflow.grpc_serving import GrpcServing
from ingest.domain.limits import MAX_REQUEST_BYTES
from ingest.entrypoints.failures import status_of
from ingest.handlers.lots import LotReceiver

log = logging.getLogger(__name__)

SERVICE_NAME = ingest_pb2.DESCRIPTOR.services_by_name["LotIngestService"].full_name
M = TypeVar("M", bound=Message)


class Unreadable:
    """A request message that did not parse (truncated, wrong wire types, invalid UTF-8...)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def tolerant(kind: type[M]) -> Callable[[bytes], M | Unreadable]:
    def deserialize(data: bytes) -> M | Unreadable:
        try:
            return kind.FromString(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the client's corrupt body
            return Unreadable(exc)

    return deserialize


def _unreadable(kind: type[Message], error: BaseException) -> str:
    return f"request: the body is not a {kind.DESCRIPTOR.full_name} ({error})"


class LotIngestServicer:
    def __init__(self, receiver: LotReceiver) -> None:
        self._receiver = receiver

    async def SubmitLot(
        self, request: ingest_pb2.SubmitLotRequest | Unreadable, context: grpc.aio.ServicerContext
    ) -> ingest_pb2.SubmitLotResponse:
        if isinstance(request, Unreadable):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, _unreadable(ingest_pb2.SubmitLotRequest, request.error)
            )
            raise AssertionError("unreachable")
        try:
            arl = await self._receiver.submit(request)
        except Exception as exc:  # noqa: BLE001 - every failure gets the status that says what to do
            code, details = status_of(exc, f"lot {request.lot.lot_id[:64]!r}")
            await context.abort(code, details)
            raise AssertionError("unreachable") from None
        return ingest_pb2.SubmitLotResponse(arl=arl)

    async def SubmitDocument(
        self,
        requests: AsyncIterator[ingest_pb2.SubmitDocumentRequest | Unreadable],
        context: grpc.aio.ServicerContext,
    ) -> ingest_pb2.SubmitDocumentResponse:
        submission = None
        chunks: list[bytes] = []
        size = 0
        problem = ""
        async for index, message in _enumerate(requests):
            # The whole stream is read before refusing (an early abort reaches a sending client
            # as a broken stream, not as the reason).
            if isinstance(message, Unreadable):
                problem = problem or f"messages[{index}]: " + _unreadable(
                    ingest_pb2.SubmitDocumentRequest, message.error
                ).removeprefix("request: ")
                continue
            if message.HasField("metadata"):
                if submission is not None:
                    problem = problem or f"messages[{index}].metadata: sent twice"
                submission = message.metadata
                continue
            size += len(message.chunk)
            if size <= self._receiver.max_document_bytes:
                chunks.append(message.chunk)
            else:
                chunks.clear()
        if not problem and size > self._receiver.max_document_bytes:
            problem = f"content: over the {self._receiver.max_document_bytes} bytes cap"
        if not problem and submission is None:
            problem = "metadata: the first message must carry it"
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
            raise AssertionError("unreachable")
        assert submission is not None
        try:
            return await self._receiver.submit_document(submission, b"".join(chunks))
        except Exception as exc:  # noqa: BLE001 - every failure gets the status that says what to do
            code, details = status_of(exc, f"document {submission.document_id[:64]!r}")
            await context.abort(code, details)
            raise AssertionError("unreachable") from None


async def _enumerate(messages: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    async for message in messages:
        yield index, message
        index += 1


def _handlers(servicer: LotIngestServicer) -> grpc.GenericRpcHandler:
    methods = {
        "SubmitLot": grpc.unary_unary_rpc_method_handler(
            servicer.SubmitLot,
            request_deserializer=tolerant(ingest_pb2.SubmitLotRequest),
            response_serializer=ingest_pb2.SubmitLotResponse.SerializeToString,
        ),
        "SubmitDocument": grpc.stream_unary_rpc_method_handler(
            servicer.SubmitDocument,
            request_deserializer=tolerant(ingest_pb2.SubmitDocumentRequest),
            response_serializer=ingest_pb2.SubmitDocumentResponse.SerializeToString,
        ),
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, methods)


class GrpcFrontDoor(GrpcServing):
    def __init__(self, receiver: LotReceiver, host: str, port: int) -> None:
        server = grpc.aio.server(
            interceptors=[aio_server_interceptor()],
            # Over it, grpc itself answers RESOURCE_EXHAUSTED before any handler runs.
            options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES)],
        )
        server.add_generic_rpc_handlers((_handlers(LotIngestServicer(receiver)),))
        super().__init__(server, SERVICE_NAME, "gRPC front door")
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        self.address = f"{host}:{port}"
        server.add_insecure_port(self.address)
