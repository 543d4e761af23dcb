"""Who may act at the pôle: technician ids, bearer tokens and console sessions, login throttling.

Pure rules; PostgreSQL keeps the rows (adapters/access_store.py) so that every replica agrees.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fseflow.vocabulary.names import SAFE_ID

TECHNICIAN_ID = SAFE_ID
TOKEN_PREFIX = "ptk_"  # noqa: S105 - a prefix, not a secret; recognisable in a leaked file or a log (secret scanners)


@dataclass(frozen=True)
class Identity:
    """The authenticated technician: every action is theirs and scoped to their organism."""

    technician: str
    organism: str


def check_technician_id(technician: str) -> str:
    if not TECHNICIAN_ID.fullmatch(technician):
        raise ValueError(
            f"technician: {technician!r} is not an id (1-64 letters, digits, '.', '_', '-', "
            "starting with a letter or digit)"
        )
    return technician


def new_secret(prefix: str = "") -> tuple[str, bytes]:
    """A random secret (256 bits) and the digest stored in its place."""
    secret = prefix + secrets.token_urlsafe(32)
    return secret, secret_digest(secret)


def secret_digest(secret: str) -> bytes:
    """SHA-256: the secrets are random 256-bit values, so a slow hash adds nothing (unlike
    passwords) and a lookup stays one index probe."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


@dataclass(frozen=True)
class LoginLimits:
    """At most ``per_technician`` failed logins for one technician id, and ``per_client`` from
    one client address, within ``window``; beyond, logins are refused until enough failures
    have left the window."""

    per_technician: int = 5
    per_client: int = 50
    window: timedelta = timedelta(minutes=15)


def locked_until(
    recent_failures: Sequence[datetime], limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When logins open again for one key (a technician, a client), or None if they are open.

    ``recent_failures``: that key's failed attempts (any order; older ones are ignored). With
    ``limit`` or more inside the window, the key opens when the ``limit``-th newest leaves it.
    """
    inside = sorted((at for at in recent_failures if at > now - window), reverse=True)
    if len(inside) < limit:
        return None
    return inside[limit - 1] + window
