"""The intake of a stage that closes business days in PostgreSQL (pointage, relances).

A batch of its input records becomes rows (``add``; a record that cannot be one raises
ValueError naming the field, and is dead-lettered), which are stored with the batch's DayMarks in
one transaction (``store``); then every day those marks completed is closed (``fseflow.day_closer``).
A stage says which rows a record gives and how they are stored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

import asyncpg
from google.protobuf.message import Message

from fseflow import day_book
from fseflow.codec import Envelope
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.day_closer import DayCloser
from fseflow.db import Conn
from fseflow.dead_letters import dead_letter
from fseflow.kafka.base import OutRecord
from fseflow.streams import HandlerResult

Batch = TypeVar("Batch")


class DayBookIntake(ABC, Generic[Batch]):
    def __init__(self, pool: asyncpg.Pool, closer: DayCloser, dlq_topic: str) -> None:
        self.pool = pool
        self.closer = closer
        self.dlq_topic = dlq_topic

    @abstractmethod
    def new_batch(self) -> Batch: ...

    @abstractmethod
    def add(self, batch: Batch, envelope: Envelope[Message]) -> None:
        """Add the rows of one record (not a DayMark) to the batch; ValueError if it has none."""

    @abstractmethod
    async def store(self, conn: Conn, batch: Batch) -> None:
        """Write the batch's rows (in the intake's transaction, before the marks)."""

    def stored(self, batch: Batch) -> None:
        """After commit: count what the batch stored."""

    async def __call__(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        batch = self.new_batch()
        marks: list[day_book.MarkRow] = []
        dead: list[OutRecord] = []
        for envelope in envelopes:
            try:
                if type(envelope.message) is DayMark:
                    marks.append(day_book.mark_row(envelope.message, envelope.record))
                else:
                    self.add(batch, envelope)
            except ValueError as exc:
                dead.append(
                    dead_letter(
                        service=self.closer.stage,
                        dlq_topic=self.dlq_topic,
                        record=envelope.record,
                        error=exc,
                        event=envelope.event_id,
                    )
                )
        async with self.pool.acquire() as conn, conn.transaction():
            await self.store(conn, batch)
            await day_book.add_marks(conn, self.closer.marks_table, marks)
        self.stored(batch)
        for world in sorted({mark[0] for mark in marks}):
            await self.closer.close_ready_days(world)
        return HandlerResult(records=dead)
