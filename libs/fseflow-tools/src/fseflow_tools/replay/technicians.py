"""The scenario's technicians at the pôle: a decision is sent with a token of its technician, of
the FSE's organism, so the pôle records it as theirs (there is no shared token, decisions.md D40).

The replay already holds the database (it loads the world there), so it asks pointage's schema
for the tokens — ``pointage.issue_api_token`` creates a technician without a console password if
new — and revokes them when the replay ends. A technician who already belongs to another
organism gets no token: that decision is refused, as the pôle would refuse it.
"""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from fseflow.db import create_pool

TOKEN_PREFIX = "ptk_"  # noqa: S105 - the pôle's token prefix, not a secret


class TechnicianRefused(Exception):
    """The decision cannot be sent as this technician; the message says why, naming the field."""


class ReplayTechnicians:
    def __init__(self, database_url: str, label: str) -> None:
        self.database_url = database_url
        self.label = label
        self._pool: asyncpg.Pool | None = None
        self._tokens: dict[tuple[str, str], str] = {}

    async def token(self, technician: str, organism: str) -> str:
        """A token of ``technician`` of ``organism`` (one per pair for the whole replay)."""
        if (technician, organism) in self._tokens:
            return self._tokens[technician, organism]
        if self._pool is None:
            self._pool = await create_pool(self.database_url, min_size=1, max_size=1)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            found = await self._pool.fetchval(
                "SELECT pointage.issue_api_token($1, $2, $3, $4)",
                technician,
                organism,
                token_digest(token),
                self.label,
            )
        except asyncpg.RaiseError as exc:  # the pôle's own check of the id
            raise TechnicianRefused(f"technician: {exc}") from None
        if found != organism:
            raise TechnicianRefused(
                f"technician: {technician} is a technician of {found}, not of {organism} (the FSE's organism)"
            )
        self._tokens[technician, organism] = token
        return token

    async def close(self) -> None:
        """Revoke every token of this replay."""
        if self._pool is None:
            return
        try:
            for token in self._tokens.values():
                await self._pool.execute("SELECT pointage.revoke_api_token($1)", token_digest(token))
        finally:
            await self._pool.close()
            self._pool = None
            self._tokens.clear()


def token_digest(token: str) -> bytes:
    """What the pôle stores in place of a token (pointage.domain.access.secret_digest)."""
    return hashlib.sha256(token.encode()).digest()
