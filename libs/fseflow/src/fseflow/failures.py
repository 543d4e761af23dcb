"""Why a batch failed: because of a record in it (poison), or because of the infrastructure.

A poison record fails however often it is retried: it must go to the dead-letter topic so that
the records behind it flow. An infrastructure failure (broker or database down, a lost
connection, a deadlock, a bug in a new release) is retried with backoff and must never send
good records to the dead-letter topic. Only errors a record's content can cause are candidates
for poison; which record is to blame is then found by trying the records alone.
"""

from __future__ import annotations

import asyncpg
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import EncodeError as ProtobufEncodeError

# PostgreSQL error classes a record's values can cause: 22 data exception (a malformed uuid,
# date or number, a NUL byte in text), 23 integrity constraint violation, 54 program limit
# exceeded (a value too large for an index row).
_DATA_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})

# Python errors raised by reading a value: a malformed date, an unknown enum, a missing key.
_DATA_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # includes UnicodeError and the codec's DecodeError
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    ProtobufDecodeError,
    ProtobufEncodeError,
)


def may_be_poison(error: BaseException) -> bool:
    """True when a record's content may have caused ``error`` (the batch is then split to find
    it); False for the infrastructure and for programming errors, which are retried."""
    if isinstance(error, asyncpg.PostgresError):
        sqlstate = getattr(error, "sqlstate", None) or ""
        return sqlstate[:2] in _DATA_SQLSTATE_CLASSES
    return isinstance(error, _DATA_ERRORS)
