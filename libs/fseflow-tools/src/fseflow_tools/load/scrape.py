"""The services' CPU and memory during the run, from their /metrics (Prometheus text).

``process_cpu_seconds_total`` (its rate per window is the cores the process used) and
``process_resident_memory_bytes``, per process; and each stage's own view of its lag
(``fseflow_consumer_lag``) and consumption (``fseflow_messages_consumed_total``), which the lag
sampler falls back on for a group whose committed offsets the broker does not give. Where to
scrape: the embedded stack's processes (their ops ports, from the stack's state), or
``FSEFLOW_METRICS_URLS`` for a deployment (``ingest=http://ingest:9101/metrics,...``). A target
that does not answer is left out of that sample, and named once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

CPU = "process_cpu_seconds_total"
RSS = "process_resident_memory_bytes"
LAG = "fseflow_consumer_lag"
CONSUMED = "fseflow_messages_consumed_total"
ENV = "FSEFLOW_METRICS_URLS"


class TargetsError(ValueError):
    pass


def parse_targets(text: str) -> dict[str, str]:
    """``name=url,name=url`` -> {name: url}; a clear error naming the bad entry."""
    targets: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise TargetsError(f"{ENV}: {item!r} is not NAME=http(s)://HOST:PORT/metrics")
        targets[name] = url
    return targets


def process_figures(text: str) -> tuple[float | None, int | None]:
    """(CPU seconds, resident bytes) from one /metrics page; None for a missing series."""
    cpu: float | None = None
    rss: int | None = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == CPU:
                cpu = float(sample.value)
            elif sample.name == RSS:
                rss = int(sample.value)
    return cpu, rss


def stage_figures(text: str) -> tuple[dict[tuple[str, str, int], int], dict[tuple[str, str], float]]:
    """(lag per (service, topic, partition), records consumed per (service, topic)) from one
    /metrics page: the stream loop's ``fseflow_consumer_lag`` and ``fseflow_messages_consumed``."""
    lag: dict[tuple[str, str, int], int] = {}
    consumed: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == LAG and {"service", "topic", "partition"} <= labels.keys():
                lag[(labels["service"], labels["topic"], int(labels["partition"]))] = int(sample.value)
            elif sample.name == CONSUMED and {"service", "topic"} <= labels.keys():
                stage = (labels["service"], labels["topic"])
                consumed[stage] = consumed.get(stage, 0.0) + float(sample.value)
    return lag, consumed


@dataclass
class Scrape:
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    rss_bytes: dict[str, int] = field(default_factory=dict)
    # Over every process scraped: a partition's lag is the highest any process reports (a
    # process keeps the gauge of a partition it was revoked, it is not summed twice), records
    # consumed are summed (each process counts its own).
    lag: dict[tuple[str, str, int], int] = field(default_factory=dict)
    consumed: dict[tuple[str, str], float] = field(default_factory=dict)

    def add_stage_figures(self, text: str) -> None:
        lag, consumed = stage_figures(text)
        for partition, value in lag.items():
            self.lag[partition] = max(value, self.lag.get(partition, 0))
        for stage, count in consumed.items():
            self.consumed[stage] = self.consumed.get(stage, 0.0) + count


class MetricsScraper:
    def __init__(self, targets: Mapping[str, str], timeout_s: float = 2.0) -> None:
        self.targets = dict(targets)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.unreachable: set[str] = set()
        self._session: aiohttp.ClientSession | None = None

    async def _one(self, name: str, url: str) -> tuple[str, str | None]:
        assert self._session is not None
        try:
            async with self._session.get(url) as response:
                return name, await response.text()
        except (aiohttp.ClientError, TimeoutError):
            self.unreachable.add(name)
            return name, None

    async def scrape(self) -> Scrape:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        pages = await asyncio.gather(*(self._one(n, u) for n, u in self.targets.items()))
        # Parsing seven pages is tens of milliseconds of Python: not on the event loop (D86).
        return await asyncio.to_thread(_parse, pages)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _parse(pages: list[tuple[str, str | None]]) -> Scrape:
    result = Scrape()
    for name, text in pages:
        if text is None:
            continue
        cpu, rss = process_figures(text)
        if cpu is not None:
            result.cpu_seconds[name] = cpu
        if rss is not None:
            result.rss_bytes[name] = rss
        result.add_stage_figures(text)
    return result
