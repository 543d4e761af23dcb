"""Sealing (R14: "les données sont scellées"): a SHA-256 digest and a keyed signature over it.

The signature binds the digest to the document's identity, so a piece swapped between two
documents, or bytes rewritten together with their digest, are both caught on read.
"""

from __future__ import annotations

import hashlib
import hmac


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def seal(key: bytes, world: str, document_id: str, sha256: str) -> str:
    message = f"{world}\x00{document_id}\x00{sha256}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_holds(key: bytes, world: str, document_id: str, content: bytes, sha256: str, signature: str) -> bool:
    return hmac.compare_digest(digest(content), sha256) and hmac.compare_digest(
        seal(key, world, document_id, sha256), signature
    )
