"""``fseflow bench``: SubmitLot -> classified throughput and latency, against the raw broker.

Three measurements in one run, on the same machine and broker:

1. throughput: N FSE in lots of ``lot_size`` pushed through SubmitLot with ``concurrency``
   calls in flight; FSE/s from the first call to the last FSE classified;
2. latency: the same path paced at half that rate; p50/p99 of receipt (ingest's clock) ->
   classified (the bench consumer's clock, same host);
3. baseline: the same number of messages of the same size produced to a fresh topic and
   consumed once, with the same Kafka client: what the broker and client alone can do.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import grpc
from hdrh.histogram import HdrHistogram
from rich.console import Console
from rich.table import Table

from fseflow import world as world_data
from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, Fse, Lot
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow.db import create_pool
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import FSE_CLASSIFIED, scratch_topic
from fseflow.world import Patient, Professional, WorldData
from fseflow_tools.demo import make_nir, make_rpps
from fseflow_tools.endpoints import Endpoints

BENCH_DAY = date(2026, 3, 2)


@dataclass
class BenchConfig:
    fse: int = 200_000
    lot_size: int = 100
    concurrency: int = 16
    latency_seconds: float = 20.0
    patients: int = 20_000
    professionals: int = 200
    seed: int = 7


def _world(config: BenchConfig, rng: random.Random) -> tuple[WorldData, list[str]]:
    organisms = ["01-331", "02-331", "01-921", "01-751", "01-691", "01-131", "01-311", "01-591"]
    patients = []
    for i in range(config.patients):
        organism = organisms[i % len(organisms)]
        nir, key = make_nir(rng, organism[3:5])
        patients.append(Patient(nir, key, organism, ((date(2015, 1, 1), date(2030, 12, 31)),)))
    professionals = [
        Professional(f"bench-ps-{i}", f"{i:09d}", organisms[i % len(organisms)])
        for i in range(config.professionals)
    ]
    prescribers = [make_rpps(rng) for _ in range(500)]
    return WorldData(organisms, professionals, prescribers, patients, []), [p.nir + p.key for p in patients]


def _lots(
    config: BenchConfig, world: str, rng: random.Random, data: WorldData, prefix: str
) -> list[SubmitLotRequest]:
    lots = []
    patients = data.patients
    for number in range(config.fse // config.lot_size):
        ps = data.professionals[number % len(data.professionals)]
        sheets = []
        for i in range(config.lot_size):
            patient = patients[rng.randrange(len(patients))]
            day = f"2026-02-{rng.randint(1, 28):02d}"
            acts = [ActLine(code="AMI", coefficient=rng.choice(("1", "2", "4")), performed_on=day)]
            if rng.random() < 0.5:
                acts.append(ActLine(code="IFD", coefficient="1", performed_on=day))
            sheets.append(
                Fse(
                    fse_id=f"{prefix}-{number}-{i}",
                    nir=patient.nir,
                    nir_key=patient.key,
                    mode=BillingMode.BILLING_MODE_SECURISE,
                    prescriber=data.prescribers[rng.randrange(len(data.prescribers))],
                    acts=acts,
                )
            )
        lots.append(
            SubmitLotRequest(
                world=world,
                received_on=BENCH_DAY.isoformat(),
                lot=Lot(lot_id=f"{prefix}-lot-{number}", ps_id=ps.id, fse=sheets),
            )
        )
    return lots


class ClassifiedWatcher:
    """Counts this world's verdicts as they arrive and records receipt -> verdict latency."""

    def __init__(self, kafka: KafkaFactory, world: str, read_from: str) -> None:
        self.world = world
        self.consumer = kafka.consumer([FSE_CLASSIFIED], group_id=None, assign_all_from=read_from)
        self.seen: set[str] = set()
        self.latency = HdrHistogram(1, 3_600_000, 3)
        self.last_at = 0.0
        self.recording = True
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle_since = time.monotonic()

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            await self._task
        await self.consumer.stop()

    async def _run(self) -> None:
        world = self.world.encode()
        while not self._stop.is_set():
            records = await self.consumer.poll_batch(10_000, 0.02)
            if not records:
                continue
            now = time.time()
            self.idle_since = time.monotonic()
            for record in records:
                if world not in record.value[:64]:  # cheap pre-filter: world is field 1
                    continue
                message = FseClassified.FromString(record.value)
                if message.world != self.world or message.fse_id in self.seen:
                    continue
                self.seen.add(message.fse_id)
                if self.recording:
                    self.latency.record_value(max(1, int(now * 1000 - message.received_at_ms)))
            self.last_at = now

    async def wait_count(self, count: int, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        while len(self.seen) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.seen)} of {count} FSE classified within {within_s:.0f}s")
            await asyncio.sleep(0.02)

    async def wait_idle(self, quiet_s: float = 1.0) -> None:
        """Until the watcher has read the topic's history (nothing new for ``quiet_s``)."""
        while time.monotonic() - self.idle_since < quiet_s:  # noqa: ASYNC110 - polling a clock
            await asyncio.sleep(0.1)


async def _submit_all(stub: LotIngestServiceStub, lots: list[SubmitLotRequest], concurrency: int) -> None:
    queue: asyncio.Queue[SubmitLotRequest] = asyncio.Queue()
    for lot in lots:
        queue.put_nowait(lot)

    async def worker() -> None:
        while not queue.empty():
            lot = queue.get_nowait()
            response = await stub.SubmitLot(lot, timeout=120)
            if not response.arl.positive:
                raise RuntimeError(f"lot {lot.lot.lot_id} refused: {response.arl.errors}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _submit_paced(stub: LotIngestServiceStub, lots: list[SubmitLotRequest], fse_per_s: float) -> None:
    interval = len(lots[0].lot.fse) / fse_per_s
    start = time.monotonic()
    pending: set[asyncio.Future[Any]] = set()
    for i, lot in enumerate(lots):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.add(asyncio.ensure_future(stub.SubmitLot(lot, timeout=120)))
        pending = {t for t in pending if not t.done()}
    await asyncio.gather(*pending)


async def _baseline(kafka: KafkaFactory, count: int, size: int) -> float:
    """Produce ``count`` messages of ``size`` bytes to a fresh topic and consume them once."""
    spec = scratch_topic("bench-baseline", "bench")
    topic = kafka.names(spec)
    await kafka.ensure_topics([spec])
    consumer = kafka.consumer([spec], group_id=None, assign_all_from="beginning")
    producer = kafka.producer()
    await consumer.start()
    await producer.start()
    payload = os.urandom(size)
    records = [OutRecord(topic, payload, str(i).encode()) for i in range(count)]
    received = 0

    async def consume() -> None:
        nonlocal received
        while received < count:
            received += len(await consumer.poll_batch(10_000, 0.02))

    started = time.perf_counter()
    consuming = asyncio.create_task(consume())
    for i in range(0, count, 5_000):
        await producer.send(records[i : i + 5_000])
    await asyncio.wait_for(consuming, 600)
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return count / elapsed


async def run_bench(
    system: Endpoints,
    config: BenchConfig,
    console: Console,
    cpu_seconds: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """The three measurements; ``cpu_seconds`` (the broker's CPU time so far) adds the broker's
    CPU seconds per 100,000 FSE of the throughput phase."""
    rng = random.Random(config.seed)  # noqa: S311 - load generation, not cryptography
    world = f"bench-{uuid.uuid4().hex[:8]}"
    data, _ = _world(config, rng)
    pool = await create_pool(system.database_url, max_size=2)
    try:
        await world_data.load(pool, world, data, name="bench", start=BENCH_DAY)
    finally:
        await pool.close()
    console.print(f"generating {config.fse:,} FSE in lots of {config.lot_size}...")
    lots = _lots(config, world, rng, data, "t")
    kafka = KafkaFactory(system.kafka, client_id="fseflow-bench")
    watcher = ClassifiedWatcher(kafka, world, system.read_from)
    await watcher.start()
    await watcher.wait_idle()
    channel = grpc.aio.insecure_channel(system.ingest_address)
    stub = LotIngestServiceStub(channel)
    try:
        await asyncio.wait_for(channel.channel_ready(), 30)
        console.print(f"throughput phase: {config.concurrency} SubmitLot calls in flight...")
        watcher.latency.reset()
        cpu_before = cpu_seconds() if cpu_seconds else 0.0
        started = time.perf_counter()
        await _submit_all(stub, lots, config.concurrency)
        submitted = time.perf_counter()
        await watcher.wait_count(len(lots) * config.lot_size, 900)
        finished = time.perf_counter()
        cpu_used = (cpu_seconds() - cpu_before) if cpu_seconds else None
        throughput = len(lots) * config.lot_size / (finished - started)
        saturated = watcher.latency
        saturated_p50 = saturated.get_value_at_percentile(50)
        saturated_p99 = saturated.get_value_at_percentile(99)

        offered = throughput / 2
        paced_fse = max(1, int(offered * config.latency_seconds / config.lot_size)) * config.lot_size
        paced_lots = _lots(replace(config, fse=paced_fse), world, rng, data, "p")
        console.print(f"latency phase: {offered:,.0f} FSE/s offered for {config.latency_seconds:.0f}s...")
        watcher.latency = HdrHistogram(1, 3_600_000, 3)
        before = len(watcher.seen)
        await _submit_paced(stub, paced_lots, offered)
        await watcher.wait_count(before + paced_fse, 300)
        p50 = watcher.latency.get_value_at_percentile(50)
        p99 = watcher.latency.get_value_at_percentile(99)
    finally:
        await channel.close()
        await watcher.stop()

    size = lots[0].lot.fse[0].ByteSize() + 120  # an FseReceived: the FSE plus its lot context
    console.print(f"baseline: {config.fse:,} messages of {size} B produced and consumed once...")
    baseline = await _baseline(kafka, config.fse, size)
    figures: dict[str, Any] = {
        "fse_per_s": round(throughput, 1),
        "p50_ms": p50,
        "p99_ms": p99,
        "baseline_msgs_per_s": round(baseline, 1),
        "ratio": round(throughput / baseline, 4),
        "offered_fse_per_s_for_latency": round(offered, 1),
        "saturated_p50_ms": saturated_p50,
        "saturated_p99_ms": saturated_p99,
        "submit_seconds": round(submitted - started, 2),
        "drain_seconds": round(finished - submitted, 2),
        "broker_cpu_s_per_100k_fse": (
            round(cpu_used * 100_000 / (len(lots) * config.lot_size), 2) if cpu_used is not None else None
        ),
        "kafka_client": system.kafka.kafka_client,
        "embedded_broker": system.embedded_kafka,
        "cpus": os.cpu_count(),
        "config": asdict(config),
    }
    table = Table(title="fseflow bench")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("FSE/s sustained (SubmitLot -> classified)", f"{throughput:,.0f}")
    table.add_row(f"p50 / p99 receipt -> classified at {offered:,.0f} FSE/s", f"{p50} / {p99} ms")
    table.add_row("p50 / p99 while saturated", f"{saturated_p50} / {saturated_p99} ms")
    table.add_row(f"raw broker baseline ({system.kafka.kafka_client}, {size} B)", f"{baseline:,.0f} msg/s")
    table.add_row("ratio FSE/s / baseline", f"{throughput / baseline:.3f}")
    Console().print(table)
    return figures
