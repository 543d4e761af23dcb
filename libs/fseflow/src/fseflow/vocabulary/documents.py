"""Supporting documents: the formats Scor accepts (PDF, JPEG, PNG), read from the bytes, and the
size cap. Shared so that ingest refuses a lot's bad attachment before anything is stored, with
the same words scor-store would use."""

from __future__ import annotations

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ACCEPTED = (PDF, JPEG, PNG)
KINDS = frozenset({"prescription", "fsp", "explanation"})
CHANNELS = frozenset({"scor", "paper"})
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK_BYTES = 256 * 1024  # per gRPC stream message: a whole typical scan in one or two


class RejectedDocument(ValueError):
    """A document Scor does not take; the message says which rule and why."""


def content_type_of(head: bytes) -> str:
    """The format from the first bytes; RejectedDocument when it is none of Scor's."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    shown = head[:8].hex(" ") or "empty"
    raise RejectedDocument(f"content: format not accepted (first bytes {shown}); Scor takes PDF, JPEG or PNG")


def check_size(size: int, cap: int) -> None:
    if size == 0:
        raise RejectedDocument("content: the document is empty")
    if size > cap:
        raise RejectedDocument(f"content: {size} bytes is over the {cap} bytes cap")
