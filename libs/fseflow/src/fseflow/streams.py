"""The consume -> handle -> produce -> commit loop every Kafka-driven stage runs.

At-least-once with idempotent handlers: offsets are committed only after the handler's output
is acknowledged by the broker, so a crash replays the batch and the handler's dedupe (event id,
in the same PostgreSQL transaction as its state change) makes the replay harmless.

A record that fails because of itself never stalls its partition: one that cannot be decoded
(headers, value), or whose handling fails with an error its content can cause
(``fseflow.failures``), goes to the service's dead-letter topic with the error and its
coordinates — the culprit is found by handling the failed batch in halves, in order, down to
single records — and the batch goes on. An infrastructure failure (database, broker) retries
the batch with backoff; meanwhile the stage is not ready and counts its failures
(``fseflow_batch_failures_total``), and ``fseflow_last_progress_timestamp_seconds`` stops
moving. A stop request lets the batch in flight finish and commit.
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
from fseflow.failures import may_be_poison
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
    ASSIGNED_PARTITIONS,
    BATCH_FAILURES,
    BATCH_RECORDS,
    BATCH_SECONDS,
    CONSUMED,
    CONSUMER_LAG,
    LAST_PROGRESS,
    PRODUCED,
    REBALANCING,
)
from fseflow.topics import TopicSpec

log = logging.getLogger(__name__)

T = TypeVar("T")

# After this long without the broker's acknowledgement of a batch, the stage says so.
ACK_WARN_S = 15.0
# A rebalance normally completes within a session timeout or two.
REJOIN_WARN_S = 60.0


@dataclass
class HandlerResult:
    records: list[OutRecord] = field(default_factory=list)
    # Produced only once ``records`` are acknowledged: DayMarks must never overtake the data
    # they close, and without idempotence the broker may reorder retried requests.
    after: list[OutRecord] = field(default_factory=list)

    def then(self, later: HandlerResult) -> HandlerResult:
        """This result followed by ``later``'s (a batch handled in parts, in order)."""
        return HandlerResult(self.records + later.records, self.after + later.after)


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
        self.dead_lettered = 0
        # Set while an infrastructure failure is being retried: (since, attempts, last error).
        self._failing: tuple[float, int, str] | None = None
        self._last_progress = LAST_PROGRESS.labels(service, stage)
        self._assigned = ASSIGNED_PARTITIONS.labels(service, stage)
        self._rebalancing = REBALANCING.labels(service, stage)

    def request_stop(self) -> None:
        self._stop.set()

    def readiness(self) -> str | None:
        if not self.ever_assigned:
            return f"{self.stage}: waiting to join its consumer group"
        rejoining = self.consumer.rejoining_for()
        if rejoining is not None and rejoining > REJOIN_WARN_S:
            return (
                f"{self.stage}: its consumer group has been rebalancing for {rejoining:.0f}s "
                "(on Tansu, a group whose leader left mid-rebalance never recovers: D49)"
            )
        if self._failing is not None:
            since, attempts, error = self._failing
            return (
                f"{self.stage}: batch failing for {time.monotonic() - since:.0f}s "
                f"({attempts} attempts), retrying: {error}"
            )
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
                else:
                    self._last_progress.set_to_current_time()  # idle and up to date
                self._update_lag()
            if in_flight is not None:
                await self._complete(in_flight)
            if self._positions:
                await self._final_commit()
        except StopRequested:
            log.warning("%s: stopped during retries; the batch will be replayed", self.stage)
        finally:
            await self.consumer.stop()

    async def _final_commit(self) -> None:
        """The positions reached, committed at stop. Refused while the group rebalances (a stop
        right after a broker restart, or beside another member's stop: ILLEGAL_GENERATION,
        REBALANCE_IN_PROGRESS): the partitions' next owner then handles those records again,
        which handlers make harmless, so the stop stays clean (status 0) and says so."""
        try:
            await self.consumer.commit(self._positions)
        except Exception as exc:  # noqa: BLE001 - a lost commit only means a harmless replay
            log.warning(
                "%s: final offset commit refused (%s); the last records may be handled again",
                self.stage,
                exc,
            )

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
            result = await self._with_retries(lambda: self._handle_isolating(envelopes))
        first = dead + result.records
        delivery = await self.producer.enqueue(first)
        return _InFlight(records, first, result.after, delivery, started)

    async def _handle_isolating(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        """Handle ``envelopes``; when that fails with an error a record may cause, handle the
        halves in order, down to the single record, which is dead-lettered. Handlers are
        idempotent, so handling again what a failed attempt half did changes nothing."""
        try:
            return await self.handler(envelopes)
        except StopRequested:
            raise
        except Exception as exc:
            if not may_be_poison(exc):
                raise
            if len(envelopes) == 1:
                envelope = envelopes[0]
                self.dead_lettered += 1
                letter = dead_letter(
                    service=self.service,
                    dlq_topic=self.dlq_topic,
                    record=envelope.record,
                    error=exc,
                    event=envelope.event_id,
                )
                return HandlerResult(records=[letter])
            log.warning(
                "%s: a batch of %d records failed (%r); handling it in halves to find the record",
                self.stage,
                len(envelopes),
                exc,
            )
            middle = len(envelopes) // 2
            first = await self._handle_isolating(envelopes[:middle])
            return first.then(await self._handle_isolating(envelopes[middle:]))

    async def _complete(self, batch: _InFlight) -> None:
        try:
            await self._acknowledged(batch)
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
        self._last_progress.set_to_current_time()
        self.batches += 1

    async def _acknowledged(self, batch: _InFlight) -> None:
        """Wait for the broker's acknowledgement of a batch's output, saying so (log, readiness)
        while it takes longer than ACK_WARN_S: a silent wait would look like an idle stage."""
        started = time.monotonic()
        try:
            while True:
                try:
                    await asyncio.wait_for(asyncio.shield(batch.delivery), ACK_WARN_S)
                    return
                except TimeoutError:
                    unacknowledged = f"{len(batch.first)} records not acknowledged by the broker"
                    self._failing = (started, 1, unacknowledged)
                    log.warning(
                        "%s: %s %.0fs after sending", self.stage, unacknowledged, time.monotonic() - started
                    )
        finally:
            self._failing = None

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` until it succeeds; infrastructure errors are retried with backoff."""
        retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=0.1, max=5.0),
            retry=retry_if_not_exception_type(StopRequested),
            reraise=True,
            before_sleep=self._log_retry,
        )
        try:
            async for try_ in retrying:
                with try_:
                    if try_.retry_state.attempt_number > 1 and self._stop.is_set():
                        raise StopRequested
                    return await attempt()
        finally:
            self._failing = None
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        kind = type(error).__name__
        BATCH_FAILURES.labels(self.service, self.stage, kind).inc()
        since = self._failing[0] if self._failing is not None else time.monotonic()
        # Never the error's whole text in readiness: it may quote a record's values.
        self._failing = (since, state.attempt_number, f"{kind}: {str(error)[:200]}")
        log.warning(
            "%s: batch failed (attempt %d, %r); retrying with backoff",
            self.stage,
            state.attempt_number,
            error,
        )

    def _count(self, consumed: list[InRecord], produced: list[OutRecord]) -> None:
        for topic, n in Counter(r.topic for r in consumed).items():
            CONSUMED.labels(self.service, topic).inc(n)
        for topic, n in Counter(r.topic for r in produced).items():
            PRODUCED.labels(self.service, topic).inc(n)

    def _update_lag(self) -> None:
        assignment = self.consumer.assignment()
        self._assigned.set(len(assignment))
        self._rebalancing.set(0 if self.consumer.rejoining_for() is None else 1)
        for tp in assignment:
            high = self.consumer.high_watermark(tp)
            position = self._positions.get(tp)
            if high is not None and position is not None:
                CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(max(0, high - position))
