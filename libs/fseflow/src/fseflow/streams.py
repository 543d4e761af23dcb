"""The consume -> handle -> produce -> commit loop every Kafka-driven stage runs.

At-least-once with idempotent handlers: offsets are committed only after the handler's output
is acknowledged by the broker, so a crash replays the batch and the handler's dedupe (event id,
in the same PostgreSQL transaction as its state change) makes the replay harmless. Records that
cannot be decoded go to the service's dead-letter topic with their coordinates; an
infrastructure failure (database, broker) retries the same batch with backoff. A stop request
lets the batch in flight finish and commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf.message import Message
from tenacity import AsyncRetrying, RetryCallState, retry_if_not_exception_type, wait_exponential

from fseflow.codec import DecodeError, Envelope, decode
from fseflow.dead_letters import dead_letter
from fseflow.kafka.base import (
    Consumer,
    DeliveryFailed,
    InRecord,
    OutRecord,
    Producer,
    TopicPartition,
    next_offsets,
)
from fseflow.telemetry.metrics import (
    BATCH_RECORDS,
    BATCH_SECONDS,
    CONSUMED,
    CONSUMER_LAG,
    HANDLER_RETRIES,
    PRODUCED,
)
from fseflow.topics import TopicSpec

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class HandlerResult:
    records: list[OutRecord] = field(default_factory=list)
    # Produced only once ``records`` are acknowledged: DayMarks must never overtake the data
    # they close, and without idempotence the broker may reorder retried requests.
    after: list[OutRecord] = field(default_factory=list)


@dataclass
class _InFlight:
    """A handled batch whose output is not yet acknowledged, nor its offsets committed."""

    records: list[InRecord]
    first: list[OutRecord]
    after: list[OutRecord]
    delivery: Awaitable[None]
    started: float


BatchHandler = Callable[[list[Envelope[Message]]], Awaitable[HandlerResult]]


class StopRequested(Exception):
    pass


class StreamProcessor:
    def __init__(
        self,
        *,
        service: str,
        stage: str,
        consumer: Consumer,
        producer: Producer,
        inputs: Mapping[str, TopicSpec],
        handler: BatchHandler,
        dlq_topic: str,
        max_records: int = 2000,
        poll_timeout_s: float = 0.05,
    ) -> None:
        self.service = service
        self.stage = stage
        self.consumer = consumer
        self.producer = producer
        self.inputs = dict(inputs)
        self.handler = handler
        self.dlq_topic = dlq_topic
        self.max_records = max_records
        self.poll_timeout_s = poll_timeout_s
        self._stop = asyncio.Event()
        self._positions: dict[TopicPartition, int] = {}
        self.ever_assigned = False
        self.batches = 0

    def request_stop(self) -> None:
        self._stop.set()

    def readiness(self) -> str | None:
        if not self.ever_assigned:
            return f"{self.stage}: waiting to join its consumer group"
        return None

    async def run(self) -> None:
        await self.consumer.start()
        in_flight: _InFlight | None = None
        try:
            while not self._stop.is_set():
                records = await self.consumer.poll_batch(self.max_records, self.poll_timeout_s)
                if self.consumer.has_joined():
                    self.ever_assigned = True
                if records:
                    handled = await self._handle(records)
                    # Batch N is handled (its state committed) while N-1's records are still
                    # being acknowledged: only then are N-1's offsets committed.
                    if in_flight is not None:
                        await self._complete(in_flight)
                    in_flight = handled
                elif in_flight is not None:
                    await self._complete(in_flight)
                    in_flight = None
                self._update_lag()
            if in_flight is not None:
                await self._complete(in_flight)
            if self._positions:
                await self.consumer.commit(self._positions)
        except StopRequested:
            log.warning("%s: stopped during retries; the batch will be replayed", self.stage)
        finally:
            await self.consumer.stop()

    async def _handle(self, records: list[InRecord]) -> _InFlight:
        started = time.perf_counter()
        envelopes: list[Envelope[Message]] = []
        dead: list[OutRecord] = []
        inputs = self.inputs
        for record in records:
            try:
                envelopes.append(decode(record, inputs[record.topic]))
            except DecodeError as exc:
                dead.append(
                    dead_letter(service=self.service, dlq_topic=self.dlq_topic, record=record, error=exc)
                )
        result = HandlerResult()
        if envelopes:
            result = await self._with_retries(lambda: self.handler(envelopes))
        first = dead + result.records
        delivery = await self.producer.enqueue(first)
        return _InFlight(records, first, result.after, delivery, started)

    async def _complete(self, batch: _InFlight) -> None:
        try:
            await batch.delivery
        except DeliveryFailed as exc:
            log.warning("%s: delivery failed (%s); sending the batch again", self.stage, exc)
            await self._with_retries(lambda: self.producer.send(batch.first))
        if batch.after:
            await self._with_retries(lambda: self.producer.send(batch.after))
        offsets = next_offsets(batch.records)
        try:
            await self.consumer.commit(offsets, asynchronous=True)
        except Exception as exc:  # noqa: BLE001 - a lost commit only means a harmless replay
            log.warning("%s: offset commit failed (%s); the batch may be replayed", self.stage, exc)
        self._positions.update(offsets)
        self._count(batch.records, batch.first + batch.after)
        BATCH_SECONDS.labels(self.service, self.stage).observe(time.perf_counter() - batch.started)
        BATCH_RECORDS.labels(self.service, self.stage).observe(len(batch.records))
        self.batches += 1

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` until it succeeds; infrastructure errors are retried with backoff."""
        retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=0.1, max=5.0),
            retry=retry_if_not_exception_type(StopRequested),
            reraise=True,
            before_sleep=self._log_retry,
        )
        async for try_ in retrying:
            with try_:
                if try_.retry_state.attempt_number > 1 and self._stop.is_set():
                    raise StopRequested
                return await attempt()
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _log_retry(self, state: RetryCallState) -> None:
        HANDLER_RETRIES.labels(self.service, self.stage).inc()
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning("%s: batch failed (%r); retrying", self.stage, error)

    def _count(self, consumed: list[InRecord], produced: list[OutRecord]) -> None:
        for topic, n in Counter(r.topic for r in consumed).items():
            CONSUMED.labels(self.service, topic).inc(n)
        for topic, n in Counter(r.topic for r in produced).items():
            PRODUCED.labels(self.service, topic).inc(n)

    def _update_lag(self) -> None:
        for tp in self.consumer.assignment():
            high = self.consumer.high_watermark(tp)
            position = self._positions.get(tp)
            if high is not None and position is not None:
                CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(max(0, high - position))
