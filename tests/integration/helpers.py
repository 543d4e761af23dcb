"""Helpers for tests against the running stack: worlds, lots, readers of topics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import grpc
from confluent_kafka import Producer

from fseflow import world as world_data
from fseflow.business_clock import day_closed_record
from fseflow.contracts.claims.v1.claims_pb2 import ActLine, BillingMode, Fse, Lot
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow.db import create_pool
from fseflow.topics import CLOCK, TopicSpec
from fseflow.world import Patient, Professional, WorldData
from fseflow_tools.replay.collector import Collector
from tests.conftest import RunningStack

NIR, KEY = "2860133063082", "17"
PRESCRIBER = "10003456786"
START = date(2026, 3, 2)


def small_world() -> WorldData:
    return WorldData(
        organisms=["01-331", "01-751"],
        professionals=[
            Professional("ps-1", "331012345", "01-331"),
            Professional("ps-paris", "751000001", "01-751"),
        ],
        prescribers=[PRESCRIBER],
        patients=[Patient(NIR, KEY, "01-331", ((date(2020, 1, 1), date(2030, 12, 31)),))],
    )


async def new_world(running: RunningStack, data: WorldData | None = None, start: date | None = START) -> str:
    world = f"it-{uuid.uuid4().hex[:10]}"
    pool = await create_pool(running.state.database_url, max_size=2)
    try:
        await world_data.load(pool, world, data or small_world(), name="integration", start=start)
    finally:
        await pool.close()
    return world


def sheet(fse_id: str, *, acts: int = 1, key: str = KEY, nir: str = NIR) -> Fse:
    return Fse(
        fse_id=fse_id,
        nir=nir,
        nir_key=key,
        mode=BillingMode.BILLING_MODE_SECURISE,
        prescriber=PRESCRIBER,
        acts=[ActLine(code="AIS", coefficient="3", performed_on="2026-02-27") for _ in range(acts)],
    )


def lot(
    world: str, lot_id: str, *fse: Fse, ps: str = "ps-1", received_on: str = "2026-03-02"
) -> SubmitLotRequest:
    return SubmitLotRequest(world=world, received_on=received_on, lot=Lot(lot_id=lot_id, ps_id=ps, fse=fse))


@asynccontextmanager
async def ingest(running: RunningStack) -> AsyncIterator[LotIngestServiceStub]:
    async with grpc.aio.insecure_channel(running.state.ingest_address) as channel:
        yield LotIngestServiceStub(channel)


@asynccontextmanager
async def reading(running: RunningStack, world: str, *specs: TopicSpec) -> AsyncIterator[Collector]:
    collector = Collector(running.kafka(), specs, world=world, start_from=running.endpoints.read_from)
    await collector.start()
    try:
        yield collector
    finally:
        await collector.stop()


async def close_day(running: RunningStack, world: str, day: date) -> None:
    kafka = running.kafka()
    producer = kafka.producer()
    await producer.start()
    try:
        await producer.send([day_closed_record(kafka.names(CLOCK), world, day)])
    finally:
        await producer.stop()


RawRecord = tuple[str, bytes, list[tuple[str, bytes]], bytes]  # topic, key, headers, value


def produce_raw(running: RunningStack, records: list[RawRecord]) -> None:
    """Records exactly as given (headers included: poison, hand-made dead letters), acknowledged."""
    producer = Producer(running.client_config())
    failures: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    for topic, key, headers, value in records:
        producer.produce(topic, value, key, headers=headers, on_delivery=delivered)
    assert producer.flush(30) == 0
    assert not failures, failures
