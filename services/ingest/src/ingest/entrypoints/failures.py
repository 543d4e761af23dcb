"""The gRPC status of a failed call says what the client should do (docs/decisions.md D35):

- INVALID_ARGUMENT: change the request (the details name each field at fault);
- RESOURCE_EXHAUSTED: the request is too large — send less (never worth resending as is);
- FAILED_PRECONDITION: the world has no open day — close one or send ``received_on``;
- UNAVAILABLE: a transient fault (broker, database or Scor unreachable): nothing was registered,
  resend it;
- INTERNAL: a fault of ours — resending will not help; the details give a reference to the log.

Internal error text (PostgreSQL's, the broker client's) goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg
import grpc

from fseflow.kafka.base import DeliveryFailed
from ingest.adapters.scor_client import DocumentRefused
from ingest.handlers.lots import InvalidSubmission, NoOpenDay, OutOfBounds, RecordTooLarge

log = logging.getLogger(__name__)

_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, a refused or reset socket
    TimeoutError,  # a pool or a broker that does not answer in time
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # the connection went away under the call
    asyncpg.exceptions.OperatorInterventionError,  # 57xxx: shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx: too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # 40xxx: serialization failure, deadlock
)
_TRANSIENT_GRPC = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)
# How the two Kafka clients word a record over the broker's or the client's size limit.
_TOO_LARGE_MARKERS = ("MSG_SIZE_TOO_LARGE", "MessageSizeTooLarge", "RecordTooLarge")


def _too_large(error: BaseException) -> bool:
    return isinstance(error, RecordTooLarge) or (
        isinstance(error, DeliveryFailed) and any(m in str(error) for m in _TOO_LARGE_MARKERS)
    )


def is_transient(error: BaseException) -> bool:
    if isinstance(error, DeliveryFailed):
        return not _too_large(error)
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code() in _TRANSIENT_GRPC
    return isinstance(error, _TRANSIENT)


def status_of(error: BaseException, what: str) -> tuple[grpc.StatusCode, str]:
    """The status and details for a call that failed with ``error``; ``what`` is "lot lot-1"."""
    if isinstance(error, (OutOfBounds, InvalidSubmission, DocumentRefused)):
        return grpc.StatusCode.INVALID_ARGUMENT, str(error)
    if isinstance(error, NoOpenDay):
        return grpc.StatusCode.FAILED_PRECONDITION, str(error)
    reference = uuid.uuid4().hex[:12]
    if _too_large(error):
        log.warning("%s refused as too large (reference %s): %s", what, reference, error)
        return (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            f"{what} not taken in: it makes a record larger than the broker accepts; "
            f"send fewer or smaller FSE (reference {reference})",
        )
    if is_transient(error):
        log.warning("%s not taken in, transient (reference %s)", what, reference, exc_info=error)
        return (
            grpc.StatusCode.UNAVAILABLE,
            f"{what} not taken in: a service it needs is unavailable; nothing was registered, "
            f"resend it (reference {reference})",
        )
    log.error("%s not taken in, internal error (reference %s)", what, reference, exc_info=error)
    return (
        grpc.StatusCode.INTERNAL,
        f"{what} not taken in: internal error, reported to the operators (reference {reference})",
    )
