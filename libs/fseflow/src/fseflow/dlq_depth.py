"""``fseflow_dead_letter_topic_records{service}``: how many records each service's DLQ holds (D47)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.watermarks import TopicDepth
from fseflow.telemetry.metrics import DEAD_LETTER_TOPIC_RECORDS
from fseflow.topics import check_service, dead_letter_topic

log = logging.getLogger(__name__)


class DeadLetterDepth:
    """Keeps ``fseflow_dead_letter_topic_records{service}`` at the size of the service's DLQ
    topic, measured every ``interval_s`` from fetch responses (``TopicDepth``). A broker that
    cannot be reached leaves the last value and is logged once; it never stops the service."""

    def __init__(self, kafka: KafkaFactory, service: str, *, interval_s: float) -> None:
        self.topic = kafka.names(dead_letter_topic(check_service(service)))
        self._depth = TopicDepth(kafka.confluent_config(), self.topic)
        self._gauge = DEAD_LETTER_TOPIC_RECORDS.labels(service)
        self.interval_s = interval_s
        self.value: int | None = None
        self._stop = asyncio.Event()
        # librdkafka consumers must not be entered from two threads.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlq-depth")

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_error = ""
        try:
            while not self._stop.is_set():
                try:
                    measured = await loop.run_in_executor(self._thread, self._depth.measure)
                    last_error = ""
                except Exception as exc:  # noqa: BLE001 - a gauge must never take the service down
                    measured = None
                    if str(exc) != last_error:
                        log.warning("%s: depth not measured (%s); retrying", self.topic, exc)
                        last_error = str(exc)
                    await loop.run_in_executor(self._thread, self._depth.close)
                if measured is not None:
                    self.value = measured
                    self._gauge.set(measured)
                # Until the first fetch answered, look again soon.
                wait = self.interval_s if measured is not None else min(1.0, self.interval_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)
        finally:
            await loop.run_in_executor(self._thread, self._depth.close)
            self._thread.shutdown(wait=False)
