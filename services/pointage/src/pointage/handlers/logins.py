"""Password logins (the console's form, the API's token request), throttled in PostgreSQL.

One attempt per technician at a time (a transaction-level advisory lock, tried, never waited
for): parallel guesses cannot all pass the count before a failure is recorded, and cannot hold
the pool's connections queueing either — the others are told to retry in a second. A throttled
attempt is answered without checking the password (a right guess would otherwise be
recognisable) and is not counted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg

from pointage.adapters import access_store as store
from pointage.domain.access import TECHNICIAN_ID, Identity, LoginLimits
from pointage.domain.passwords import hash_password, verify_password

# Checked when the technician does not exist, so that an unknown id costs the same time.
_DUMMY_HASH = hash_password("not-a-technician-password")


@dataclass(frozen=True)
class Throttled:
    lock: store.Lock
    technician: str


class Logins:
    def __init__(self, pool: asyncpg.Pool, limits: LoginLimits) -> None:
        self.pool = pool
        self.limits = limits

    async def attempt(self, technician: str, password: str, client: str) -> Identity | Throttled | None:
        """The technician if the password is theirs, Throttled, or None (wrong id or password)."""
        async with self.pool.acquire() as conn, conn.transaction():
            lock = await store.login_in_progress(conn, technician) or await store.login_lock(
                conn, technician, client, self.limits
            )
            if lock is not None:
                return Throttled(lock, technician)
            row = await store.technician(conn, technician) if TECHNICIAN_ID.fullmatch(technician) else None
            stored = row["password_hash"] if row is not None and row["password_hash"] else _DUMMY_HASH
            # scrypt takes tens of milliseconds of CPU: off the event loop.
            matches = await asyncio.to_thread(verify_password, password, stored)
            if row is None or stored is _DUMMY_HASH or not matches:
                await store.record_failure(conn, technician, client, self.limits.window)
                return None
            await store.clear_failures(conn, technician)
            return Identity(technician, row["organism"])
