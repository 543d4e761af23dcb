"""A consumer read in a task of its own until stopped: what the replay's collector and the load
tool's watcher share. A subclass takes each batch; the partitions assigned at start are kept,
since a day is complete on a topic when every one of its partitions has closed it."""

from __future__ import annotations

import asyncio
import contextlib

from fseflow.kafka.base import Consumer, InRecord


class TopicReader:
    def __init__(self, consumer: Consumer, *, name: str, max_records: int) -> None:
        self._consumer = consumer
        self._name = name
        self._max_records = max_records
        self._partitions: dict[str, set[int]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        for tp in self._consumer.assignment():
            self._partitions.setdefault(tp.topic, set()).add(tp.partition)
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _run(self) -> None:
        while not self._stop.is_set():
            records = await self._consumer.poll_batch(self._max_records, 0.05)
            if records:
                await self._take(records)

    async def _take(self, records: list[InRecord]) -> None:
        raise NotImplementedError
