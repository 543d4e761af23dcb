"""PostgreSQL side of access: technicians, their API tokens, console sessions, failed logins.

Tokens and session ids are looked up by their SHA-256 digest; the secrets themselves are only
ever in the holder's hands. Times are the database's (``now()``), so both replicas agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from fseflow.db import Conn
from pointage.domain.access import Identity, LoginLimits, locked_until


async def add_technician(conn: Conn, technician_id: str, organism: str, password_hash: str) -> bool:
    """Create or update a technician. A technician moved to another organism loses their tokens
    and sessions (they were granted for the former one); returns whether that happened."""
    async with conn.transaction():
        previous = await conn.fetchval(
            "SELECT organism FROM pointage.technicians WHERE technician_id = $1 FOR UPDATE", technician_id
        )
        await conn.execute(
            """
            INSERT INTO pointage.technicians (technician_id, organism, password_hash) VALUES ($1, $2, $3)
            ON CONFLICT (technician_id) DO UPDATE SET organism = EXCLUDED.organism,
                password_hash = EXCLUDED.password_hash
            """,
            technician_id,
            organism,
            password_hash,
        )
        moved = previous is not None and previous != organism
        if moved:
            await revoke_all(conn, technician_id)
        return moved


async def technician(conn: Conn, technician_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM pointage.technicians WHERE technician_id = $1", technician_id)


# -- API tokens ------------------------------------------------------------------------------------
async def issue_token(conn: Conn, technician_id: str, digest: bytes, label: str) -> None:
    await conn.execute(
        "INSERT INTO pointage.api_tokens (token_hash, technician_id, label) VALUES ($1, $2, $3)",
        digest,
        technician_id,
        label,
    )


async def token_identity(conn: Conn, digest: bytes) -> Identity | None:
    row = await conn.fetchrow(
        """
        SELECT t.technician_id, t.organism FROM pointage.api_tokens k
        JOIN pointage.technicians t USING (technician_id)
        WHERE k.token_hash = $1 AND k.revoked_at IS NULL
        """,
        digest,
    )
    return Identity(row["technician_id"], row["organism"]) if row else None


async def revoke_token(conn: Conn, digest: bytes) -> bool:
    done = await conn.execute(
        "UPDATE pointage.api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
        digest,
    )
    return bool(done != "UPDATE 0")


async def revoke_all(conn: Conn, technician_id: str) -> tuple[int, int]:
    """Every token and console session of a technician: (tokens revoked, sessions ended)."""
    tokens = await conn.execute(
        "UPDATE pointage.api_tokens SET revoked_at = now() WHERE technician_id = $1 AND revoked_at IS NULL",
        technician_id,
    )
    sessions = await conn.execute(
        "DELETE FROM pointage.console_sessions WHERE technician_id = $1", technician_id
    )
    return int(tokens.split()[-1]), int(sessions.split()[-1])


# -- console sessions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    identity: Identity
    csrf: str

    @property
    def technician(self) -> str:
        return self.identity.technician

    @property
    def organism(self) -> str:
        return self.identity.organism


async def open_session(conn: Conn, digest: bytes, technician_id: str, csrf: str, lifetime: timedelta) -> None:
    await conn.execute("DELETE FROM pointage.console_sessions WHERE expires_at < now()")
    await conn.execute(
        """
        INSERT INTO pointage.console_sessions (session_hash, technician_id, csrf, expires_at)
        VALUES ($1, $2, $3, now() + $4::interval)
        """,
        digest,
        technician_id,
        csrf,
        lifetime,
    )


async def session(conn: Conn, digest: bytes) -> Session | None:
    row = await conn.fetchrow(
        """
        SELECT t.technician_id, t.organism, s.csrf FROM pointage.console_sessions s
        JOIN pointage.technicians t USING (technician_id)
        WHERE s.session_hash = $1 AND s.expires_at > now()
        """,
        digest,
    )
    return Session(Identity(row["technician_id"], row["organism"]), row["csrf"]) if row else None


async def close_session(conn: Conn, digest: bytes) -> None:
    await conn.execute("DELETE FROM pointage.console_sessions WHERE session_hash = $1", digest)


# -- failed logins ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lock:
    until: datetime
    now: datetime
    # Another attempt for the same technician is being checked (not too many failures).
    busy: bool = False

    @property
    def seconds(self) -> int:
        return max(1, int((self.until - self.now).total_seconds() + 0.999))


async def login_in_progress(conn: Conn, technician_id: str) -> Lock | None:
    """Takes the technician's login lock for this transaction; if another attempt holds it, a
    Lock of one second."""
    row = await conn.fetchrow(
        "SELECT pg_try_advisory_xact_lock(hashtext('pointage.login'), hashtext($1)) AS taken, now() AS now",
        technician_id,
    )
    assert row is not None  # a SELECT without FROM returns one row
    return None if row["taken"] else Lock(row["now"] + timedelta(seconds=1), row["now"], busy=True)


async def login_lock(conn: Conn, technician_id: str, client: str, limits: LoginLimits) -> Lock | None:
    """Whether logins of this technician, or from this client, are refused for now, and until when."""
    now: datetime = await conn.fetchval("SELECT now()")
    since = now - limits.window
    query = """
        SELECT failed_at FROM pointage.login_failures WHERE {key} = $1 AND failed_at > $2
        ORDER BY failed_at DESC LIMIT $3
    """
    by_technician = await conn.fetch(
        query.format(key="technician_id"), technician_id, since, limits.per_technician
    )
    by_client = await conn.fetch(query.format(key="client"), client, since, limits.per_client)
    ends = [
        locked_until([r["failed_at"] for r in by_technician], limits.per_technician, limits.window, now),
        locked_until([r["failed_at"] for r in by_client], limits.per_client, limits.window, now),
    ]
    until = max((end for end in ends if end is not None), default=None)
    return Lock(until, now) if until is not None else None


async def record_failure(conn: Conn, technician_id: str, client: str, window: timedelta) -> None:
    await conn.execute("DELETE FROM pointage.login_failures WHERE failed_at < now() - $1::interval", window)
    await conn.execute(
        "INSERT INTO pointage.login_failures (technician_id, client) VALUES ($1, $2)", technician_id, client
    )


async def clear_failures(conn: Conn, technician_id: str) -> None:
    """A successful login starts the technician's count again (the client's count stays)."""
    await conn.execute("DELETE FROM pointage.login_failures WHERE technician_id = $1", technician_id)
