"""One load run against a deployment: world, generator, samplers, day closer, knee, result.

The world is loaded under a fresh world id (like a replay), so a run never sees another's
patients nor disturbs them. While the workers send, the parent process merges their deltas,
reads the verdicts and day closes (``watcher``), samples the consumer groups' backlog and the
services' CPU every two seconds, closes business days as they end, and, with ``find_knee``,
judges each step as soon as its windows are in and stops the generator at the first step the
pipeline does not sustain.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import KafkaException

from fseflow import world as world_data
from fseflow.db import create_pool
from fseflow.kafka.factory import KafkaFactory
from fseflow_tools.endpoints import Endpoints
from fseflow_tools.load import windows as w
from fseflow_tools.load.access import CLIENT_ID
from fseflow_tools.load.chain import ChainPlan, efficiency, run_chain
from fseflow_tools.load.days import DayCloser, KafkaDayClose, lots_by_day
from fseflow_tools.load.generator import Generator
from fseflow_tools.load.knee import (
    DEFAULT_GROWING_WINDOWS,
    DEFAULT_P99_LIMIT_MS,
    StepVerdict,
    find_knee,
    judge_step,
    steps_of,
)
from fseflow_tools.load.lag import LagSampler
from fseflow_tools.load.live import Snapshot
from fseflow_tools.load.lots import LotFactory, WorldShape, build_world
from fseflow_tools.load.profiles import Profile, schedule
from fseflow_tools.load.result import build
from fseflow_tools.load.scrape import MetricsScraper
from fseflow_tools.load.watcher import PipelineWatcher
from fseflow_tools.load.worker import WorkerPlan
from fseflow_tools.replay.scenario import parse

SAMPLE_EVERY_S = 2.0


@dataclass
class LoadConfig:
    profile: Profile
    description: str
    workers: int
    shape: WorldShape = field(default_factory=WorldShape)
    timeout_s: float = 30.0
    max_in_flight: int = 10_000
    drain_s: float = 60.0
    find_knee: bool = False
    knee_p99_ms: float = DEFAULT_P99_LIMIT_MS
    growing_windows: int = DEFAULT_GROWING_WINDOWS
    step_every_s: float = 0.0
    classify_wait_s: float = 300.0  # after the last send: until everything acknowledged is classified
    chain_messages: int = 0  # 0: no trivial chain
    window_s: float = w.WINDOW_SECONDS


@dataclass
class RunOutcome:
    result: dict[str, Any]
    classified_all: bool
    missing: int  # FSE acknowledged and not classified at the end


class LoadRun:
    def __init__(
        self,
        config: LoadConfig,
        endpoints: Endpoints,
        *,
        metrics_targets: Mapping[str, str] | None = None,
        progress: Callable[[Snapshot], None] | None = None,
        ceiling: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.endpoints = endpoints
        self.metrics_targets = dict(metrics_targets or {})
        self.progress = progress
        self.ceiling = dict(ceiling) if ceiling else None
        self.world = f"load-{uuid.uuid4().hex[:8]}"
        self.tag = uuid.uuid4().hex[:6]
        self.windows: dict[int, w.Window] = {}
        self.start_at = 0.0
        self.verdicts: list[StepVerdict] = []
        self.note = ""
        self.sample_errors: list[str] = []
        self.lag_from_metrics: dict[str, str] = {}  # group -> why the broker gave no offsets
        self.cut_short = False  # the generator fell so far behind that its schedule was stopped

    # -- windows ----------------------------------------------------------------------------------
    def _window(self, instant: float) -> w.Window:
        index = w.window_of(instant - self.start_at, self.config.window_s)
        return self.windows.setdefault(index, w.Window(index))

    def _record(self, instant: float, key: str, latency_s: float | None, read_delay_s: float | None) -> None:
        if not self.start_at:
            return  # verdicts of what was there before the run started
        window = self._window(instant)
        window.counts[key] += 1
        if latency_s is not None:
            w.record(window.histogram(w.END_TO_END), latency_s * 1e6)
        if read_delay_s is not None:
            w.record(window.histogram(w.READ_DELAY), read_delay_s * 1e6)

    def _rows(self) -> list[dict[str, Any]]:
        return w.rows([self.windows[i] for i in sorted(self.windows)], self.config.window_s)

    async def _rows_between(self, first: int, last: int) -> list[dict[str, Any]]:
        """Rows of windows ``first..last``, summarised in a thread on frozen copies: the event
        loop stays free to read verdicts and stamp them on time (D86)."""
        frozen = [self.windows[i].frozen() for i in sorted(self.windows) if first <= i <= last]
        return await asyncio.to_thread(w.rows, frozen, self.config.window_s)

    def _totals(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for window in self.windows.values():
            for key, value in window.counts.items():
                counts[key] = counts.get(key, 0) + value
        return counts

    # -- the run ----------------------------------------------------------------------------------
    async def run(self) -> RunOutcome:
        config = self.config
        world = build_world(config.shape)
        await self._load_world(world.document)
        factory = LotFactory(world, self.world, self.tag, config.shape)
        expected = lots_by_day(config.profile, list(schedule(config.profile, factory.size_of)))
        kafka = KafkaFactory(self.endpoints.kafka, client_id=CLIENT_ID)
        closer_hook = KafkaDayClose(kafka, self.world)
        closer = DayCloser(config.profile, config.shape.start, expected, closer_hook)
        watcher = PipelineWatcher(kafka, self.world, self.endpoints.read_from, self._record)
        sampler = LagSampler(kafka)
        scraper = MetricsScraper(self.metrics_targets)
        plan = WorkerPlan(
            0,
            1,
            self.endpoints.ingest_address,
            config.profile,
            config.shape,
            self.world,
            self.tag,
            config.timeout_s,
            config.max_in_flight,
            config.drain_s,
            config.window_s,
        )
        generator = Generator(plan, config.workers, lambda d: w.merge(self.windows, d), closer.add_answered)
        started_wall = datetime.now(UTC)
        await closer_hook.start()
        await watcher.start()
        sending_done = asyncio.Event()
        background: list[asyncio.Task[None]] = []
        try:
            self.start_at = await generator.start()
            background = [
                asyncio.create_task(self._sample(sampler, scraper, sending_done)),
                asyncio.create_task(self._close_days(closer, sending_done)),
                asyncio.create_task(self._show(watcher, closer, sending_done)),
            ]
            if config.find_knee:
                background.append(asyncio.create_task(self._judge_steps(generator, sending_done)))
            await generator.collect()
            self.cut_short = generator.cut_short
            sending_done.set()
            # Every lot sent has its outcome now (UNANSWERED included): the days still open
            # close on what was sent (a knee search stops before the schedule's end).
            closer.expected = dict(closer.answered)
            await closer.tick(time.monotonic() - self.start_at, finished=True)
            acked = self._totals().get(w.ACKED_FSE, 0)
            # After an overload (the knee) the backlog is what was measured: no long wait for it.
            wait = min(config.classify_wait_s, 30.0) if config.find_knee else config.classify_wait_s
            finals = asyncio.create_task(self._sample(sampler, scraper, asyncio.Event(), until_s=wait))
            began = time.monotonic()
            classified_all = await watcher.wait_classified(acked, wait)
            # The last day's delivery at the pôle, so that its close time is in the result.
            await watcher.wait_pole_closed(
                list(closer.closed_at), max(0.0, wait - (time.monotonic() - began))
            )
            finals.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await finals
            await self._final_sample(sampler, scraper)
        finally:
            sending_done.set()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await generator.close()
            await watcher.stop()
            await closer_hook.stop()
            await asyncio.to_thread(sampler.close)
            self.lag_from_metrics = dict(sampler.sources.metrics_groups)
            await scraper.close()
        chain = None
        if config.chain_messages:
            chain = await run_chain(self.endpoints.kafka, ChainPlan(self.tag, messages=config.chain_messages))
        result = self._result(factory, watcher, closer, chain, started_wall, classified_all)
        return RunOutcome(result, classified_all, max(0, acked - watcher.classified))

    async def _load_world(self, document: dict[str, Any]) -> None:
        scenario = parse(document)
        days = max(1, int(self.config.profile.duration // self.config.profile.day_seconds) + 1)
        pool = await create_pool(self.endpoints.database_url, min_size=1, max_size=2)
        try:
            await world_data.load(
                pool,
                self.world,
                scenario.world,
                name=f"fseflow load {self.config.profile.name}",
                start=self.config.shape.start,
                until=self.config.shape.start + timedelta(days=2 * days + 7),
            )
        finally:
            await pool.close()

    async def _sample(
        self, sampler: LagSampler, scraper: MetricsScraper, done: asyncio.Event, until_s: float | None = None
    ) -> None:
        deadline = time.monotonic() + until_s if until_s is not None else None
        while not done.is_set() and (deadline is None or time.monotonic() < deadline):
            await self._final_sample(sampler, scraper)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), SAMPLE_EVERY_S)

    async def _final_sample(self, sampler: LagSampler, scraper: MetricsScraper) -> None:
        try:
            groups, metrics = await asyncio.gather(sampler.sample(), scraper.scrape())
        except (KafkaException, LookupError, TimeoutError, OSError) as exc:
            # A window without a sample has no lag figure; the run goes on, and says why.
            self.sample_errors.append(f"{type(exc).__name__}: {exc}")
            return
        groups.update(sampler.metrics_samples(metrics.lag, metrics.consumed))
        self.sample_errors.extend(sampler.sources.errors)
        sampler.sources.errors.clear()
        now = time.monotonic()
        window = self._window(now)
        window.sampled_at = now - self.start_at
        window.committed = {g: s.committed for g, s in groups.items()}
        window.backlog = {g: s.backlog for g, s in groups.items()}
        window.cpu_seconds = metrics.cpu_seconds
        window.rss_bytes = metrics.rss_bytes

    async def _close_days(self, closer: DayCloser, done: asyncio.Event) -> None:
        while not done.is_set():
            await closer.tick(time.monotonic() - self.start_at)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.2)

    async def _show(self, watcher: PipelineWatcher, closer: DayCloser, done: asyncio.Event) -> None:
        while not done.is_set() and self.progress is not None:
            elapsed = time.monotonic() - self.start_at
            current = w.window_of(elapsed, self.config.window_s)
            latest = next((i for i in sorted(self.windows, reverse=True) if self.windows[i].backlog), None)
            self.progress(
                Snapshot(
                    elapsed,
                    self.config.profile.duration,
                    self.config.profile.rate_at(elapsed),
                    w.glance(self.windows.get(current - 1), self.config.window_s) if current else None,
                    self._totals(),
                    self.windows[latest].backlog if latest is not None else {},
                    closer.closed,
                    self.note,
                )
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 1.0)

    async def _judge_steps(self, generator: Generator, done: asyncio.Event) -> None:
        """Each step once its windows are in (one window after its end); the first step the
        pipeline does not sustain stops the generator."""
        profile = self.config.profile
        every = self.config.step_every_s
        for number, rate in enumerate(profile.steps):
            ready_at = self.start_at + (number + 1) * every + self.config.window_s + SAMPLE_EVERY_S
            while time.monotonic() < ready_at:
                if done.is_set():
                    return
                await asyncio.sleep(0.5)
            # The step's windows and the one before (its consumption rates start from that sample).
            first = int(number * every // self.config.window_s) - 1
            last = int((number + 1) * every // self.config.window_s)
            rows = steps_of(await self._rows_between(first, last), every).get(number, [])
            verdict = judge_step(
                number,
                rate,
                rows,
                width_s=self.config.window_s,
                p99_limit_ms=self.config.knee_p99_ms,
                growing_windows=self.config.growing_windows,
            )
            self.verdicts.append(verdict)
            if not verdict.sustainable:
                self.note = f"knee passed at {rate:,.0f} FSE/s: {'; '.join(verdict.reasons)}"
                generator.stop()
                return
            self.note = f"step {number} at {rate:,.0f} FSE/s sustained"

    def _result(
        self,
        factory: LotFactory,
        watcher: PipelineWatcher,
        closer: DayCloser,
        chain: dict[str, Any] | None,
        started_wall: datetime,
        classified_all: bool,
    ) -> dict[str, Any]:
        config = self.config
        windows = [self.windows[i] for i in sorted(self.windows)]
        extra: dict[str, Any] = {
            "world": self.world,
            "startedAt": started_wall.isoformat(timespec="seconds"),
            "classifiedAll": classified_all,
            "classified": watcher.classified,
            "dayCloses": self._day_closes(watcher, closer),
            "forcedDayCloses": closer.forced,
            "sampleErrors": self.sample_errors[:20],
            # Groups whose backlog and consumption come from the stages' /metrics: why.
            "lagFromMetrics": self.lag_from_metrics,
            "scheduleCutShort": self.cut_short,
            "ceiling": self.ceiling,
            "chain": chain,
        }
        pipeline_rate: float | None = None
        if config.find_knee:
            knee = find_knee(self.verdicts)
            extra["knee"] = {
                "rate": knee.rate,
                "endToEndLatency99pct": knee.verdict.end_to_end_p99_ms if knee.verdict else None,
                "publishLatency99pct": knee.verdict.publish_p99_ms if knee.verdict else None,
                "saturatedStage": knee.saturated_stage,
                "note": knee.note,
                "steps": [verdict.__dict__ for verdict in self.verdicts],
            }
            pipeline_rate = knee.rate
        else:
            classified = [r["classified_rate"] for r in self._rows() if r["classified_rate"]]
            pipeline_rate = sum(classified) / len(classified) if classified else None
        extra["efficiency"] = efficiency(pipeline_rate, chain["msgs_per_s"] if chain else None)
        sizes = [factory.build(i, config.shape.start).request.ByteSize() for i in range(50)]
        kafka = self.endpoints.kafka
        return build(
            windows,
            workload={
                "profile": config.profile.name,
                "description": config.description,
                "durationSeconds": config.profile.duration,
                "daySeconds": config.profile.day_seconds,
                "offeredFse": round(config.profile.total_fse),
                "world": {
                    "professionals": config.shape.professionals,
                    "patients": config.shape.patients,
                    "scorShare": config.shape.scor_share,
                    "lateDocumentShare": config.shape.late_document_share,
                    "seed": config.shape.seed,
                },
            },
            driver={
                "name": f"fseflow-grpc-ingest/{kafka.kafka_client}",
                "target": self.endpoints.ingest_address,
                "bootstrap": kafka.kafka_bootstrap_servers,
                "embedded": self.endpoints.embedded_kafka,
                "message_size": round(sum(sizes) / len(sizes)),
                "topics": 1,
                "partitions": kafka.kafka_partitions,
                "workers": config.workers,
                "consumers": None,
            },
            extra=extra,
            width=config.window_s,
        )

    @staticmethod
    def _day_closes(watcher: PipelineWatcher, closer: DayCloser) -> dict[str, dict[str, float | None]]:
        """Per business day: wall seconds from DayClosed sent to the day complete on the
        verdicts' topic and at the pôle (pointage.settlements)."""
        closes: dict[str, dict[str, float | None]] = {}
        for day, sent in closer.closed_at.items():
            classified = watcher.classified_closed.get(day)
            pole = watcher.pole_closed.get(day)
            closes[day] = {
                "classified_s": round(classified - sent, 2) if classified is not None else None,
                "pole_closed_s": round(pole - sent, 2) if pole is not None else None,
            }
        return closes
