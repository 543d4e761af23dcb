"""The day-close loop of the stages that close business days in PostgreSQL (pointage, relances).

Each complete day (its DayMarks reached every input partition, `fseflow.day_book`) is closed in
order, in one transaction under the stage's per-world advisory lock, so that replicas and
restarts close it exactly once; the records it queued in the outbox are published after commit.
A stage says what closing a day means (``close_day``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import date
from typing import ClassVar

import asyncpg

from fseflow import day_book
from fseflow.db import Conn
from fseflow.kafka.factory import KafkaFactory
from fseflow.outbox import OutboxRelay
from fseflow.topics import caisse_topics

log = logging.getLogger(__name__)


class DayCloser(ABC):
    stage: ClassVar[str]  # the advisory lock's name and the logs'
    marks_table: ClassVar[str]  # qualified tables of `fseflow.day_book`
    closed_table: ClassVar[str]

    def __init__(
        self, pool: asyncpg.Pool, relay: OutboxRelay, kafka: KafkaFactory, inputs: dict[str, int]
    ) -> None:
        self.pool = pool
        self.relay = relay
        self.kafka = kafka
        # physical input topic -> partitions: a day is complete once all have its marks
        self.inputs = inputs
        self._caisse_topics_ready: set[str] = set()

    async def close_ready_days(self, world: str) -> list[date]:
        closed = []
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                await day_book.lock_world(conn, self.stage, world)
                day = await day_book.next_complete_day(
                    conn, self.marks_table, self.closed_table, world, self.inputs
                )
                if day is None:
                    break
                summary = await self.close_day(conn, world, day)
            closed.append(day)
            await self.relay.flush()
            log.info("world %s: %s closed %s: %s", world, self.stage, day, summary)
        return closed

    async def ensure_caisse_topics(self, organisms: Iterable[str]) -> None:
        """Create the caisse topics of organisms met for the first time (once per process)."""
        missing = [o for o in organisms if o not in self._caisse_topics_ready]
        if missing:
            await self.kafka.ensure_topics([spec for o in missing for spec in caisse_topics(o)])
            self._caisse_topics_ready.update(missing)

    @abstractmethod
    async def close_day(self, conn: Conn, world: str, day: date) -> object:
        """Do the stage's work for ``day`` inside the caller's transaction; return a summary for
        the log."""
