"""Replays a scenario through the running services (docs/scenario-contract.md).

The world is loaded under a fresh world id (so replays never see each other). Then, business
day by business day: the day's lots go to ingest's SubmitLot one after the other, in file order
(so "received before" is the file's order); the day is closed on the clock topic; and the
replay waits until the closure has gone through every partition of the output topics, which
means every stage has finished that day. Results are built from what the pipeline published.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import aiohttp
import grpc
from google.protobuf.message import Message
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from fseflow import world as world_data
from fseflow.business_clock import day_closed_record
from fseflow.codec import event_id
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import ArlIssued, SubmitLotRequest
from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted, DocumentStored
from fseflow.db import create_pool
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import (
    AID_GRANTED,
    ARL_ISSUED,
    CLOCK,
    DOCUMENT_STORED,
    FSE_CLASSIFIED,
    ORGANISM_PATTERN,
    TopicSpec,
    caisse_topics,
)
from fseflow.vocabulary import calendar
from fseflow_tools.endpoints import Endpoints
from fseflow_tools.replay import results as results_builder
from fseflow_tools.replay.collector import Collector
from fseflow_tools.replay.requests import document_messages, lot_request
from fseflow_tools.replay.results import Submission
from fseflow_tools.replay.scenario import Event, Scenario
from fseflow_tools.replay.technicians import ReplayTechnicians, TechnicianRefused

OUTPUTS = (FSE_CLASSIFIED, ARL_ISSUED, DOCUMENT_STORED, AID_GRANTED)


@dataclass
class Progress:
    day: date
    days_done: int
    days_total: int
    lots_sent: int
    fse_sent: int
    fse_classified: int


ProgressCallback = Callable[[Progress], None]


class ReplayFailed(RuntimeError):
    """A replay that could not finish, with one line saying why and where to look."""


def pole_topics(world: world_data.WorldData) -> tuple[TopicSpec, ...]:
    """The caisse topics of every organism of the world (its own and its professionals')."""
    organisms = sorted({*world.organisms, *(p.organism for p in world.professionals)})
    return tuple(spec for o in organisms if ORGANISM_PATTERN.match(o) for spec in caisse_topics(o))


M = TypeVar("M", bound=Message)


def _of(collector: Collector, specs: Sequence[TopicSpec], kind: type[M]) -> list[M]:
    return [m for spec in specs for m in collector.topic(spec).messages if isinstance(m, kind)]


class PoleClient:
    """The pôle's decisions API (pointage), called as each decision's technician (their token)."""

    def __init__(self, base_url: str, technicians: ReplayTechnicians) -> None:
        self.base_url = base_url.rstrip("/")
        self.technicians = technicians
        self._session = aiohttp.ClientSession()

    async def decide(
        self, *, world: str, fse: str, outcome: str, technician: str, organism: str, on: date
    ) -> str | None:
        """None once decided; else the pôle's reason for refusing (an FSE not litigieuse...)."""
        try:
            token = await self.technicians.token(technician, organism)
        except TechnicianRefused as exc:
            return str(exc)
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "world": world,
            "fse": fse,
            "outcome": outcome,
            "technician": technician,
            "on": on.isoformat(),
        }
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(aiohttp.ClientConnectionError),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_attempt(30),
            reraise=True,
        ):
            with attempt:
                async with self._session.post(
                    f"{self.base_url}/api/v1/decisions", json=body, headers=headers
                ) as response:
                    if response.status == 200:
                        return None
                    payload = await response.json(content_type=None)
                    if response.status in (401, 500):
                        raise RuntimeError(f"pointage API: HTTP {response.status}: {payload}")
                    error = payload.get("error", {}) if isinstance(payload, dict) else {}
                    return f"{error.get('field', '?')}: {error.get('message', response.status)}"
        raise AssertionError("unreachable")

    async def close(self) -> None:
        try:
            await self._session.close()
        finally:
            await self.technicians.close()


def world_id(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:40] or "scenario"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def _transient(error: BaseException) -> bool:
    return isinstance(error, grpc.aio.AioRpcError) and error.code() == grpc.StatusCode.UNAVAILABLE


class Replay:
    def __init__(
        self,
        scenario: Scenario,
        endpoints: Endpoints,
        *,
        progress: ProgressCallback | None = None,
        day_timeout: float = 180.0,
    ) -> None:
        self.scenario = scenario
        self.endpoints = endpoints
        self.progress = progress
        self.day_timeout = day_timeout
        self.world = world_id(scenario.name)
        self.submissions: list[Submission] = []
        self.refused_documents: dict[str, str] = {}
        self.refused_decisions: dict[str, str] = {}
        self._poles_of_fse: dict[str, str] | None = None
        self.elapsed_s = 0.0

    def _schedule(self) -> tuple[list[date], dict[date, list[Event]]]:
        by_day: dict[date, list[Event]] = defaultdict(list)
        for event in sorted(self.scenario.events, key=lambda e: (e.on, e.index)):
            # An action that falls on a non-business day happens on the next business day.
            by_day[calendar.on_or_after(event.on)].append(event)
        last = max([self.scenario.until, *by_day])
        return list(calendar.business_days(self.scenario.start, last)), by_day

    async def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        pool = await create_pool(self.endpoints.database_url, min_size=1, max_size=2)
        try:
            await world_data.load(
                pool,
                self.world,
                self.scenario.world,
                name=self.scenario.name,
                start=self.scenario.start,
                until=self.scenario.until,
            )
        finally:
            await pool.close()
        kafka = KafkaFactory(self.endpoints.kafka, client_id="fseflow-replay")
        # What the pôles of the world's organisms publish, each on its own caisse topics.
        self.poles = pole_topics(self.scenario.world)
        self.outputs = (*OUTPUTS, *self.poles)
        await kafka.ensure_topics([CLOCK, *self.outputs])
        collector = Collector(kafka, self.outputs, world=self.world, start_from=self.endpoints.read_from)
        producer = kafka.producer()
        channel = grpc.aio.insecure_channel(self.endpoints.ingest_address)
        pole = PoleClient(
            self.endpoints.pointage_url,
            ReplayTechnicians(self.endpoints.database_url, f"replay {self.world}"),
        )
        await collector.start()
        await producer.start()
        try:
            try:
                await asyncio.wait_for(channel.channel_ready(), 30)
            except TimeoutError:
                raise ReplayFailed(
                    f"ingest ({self.endpoints.ingest_address}) did not answer within 30s: is it running "
                    "(`fseflow status`)?"
                ) from None
            await self._play(LotIngestServiceStub(channel), pole, producer, kafka, collector)
        finally:
            await pole.close()
            await channel.close()
            await producer.stop()
            await collector.stop()
        self.elapsed_s = time.perf_counter() - started
        results = results_builder.build(
            self.scenario,
            self.submissions,
            _of(collector, (FSE_CLASSIFIED,), FseClassified),
            _of(collector, (ARL_ISSUED,), ArlIssued),
            documents=_of(collector, (DOCUMENT_STORED,), DocumentStored),
            aids=_of(collector, (AID_GRANTED,), AidGranted),
            pole=_of(collector, self.poles, Message),
            refused_documents=self.refused_documents,
            refused_decisions=self.refused_decisions,
        )
        # The namespace the replay ran in: `fseflow subscribe 01-331 --world ...` shows it live.
        results["world"] = self.world
        return results

    async def _play(
        self,
        stub: LotIngestServiceStub,
        pole: PoleClient,
        producer: Any,
        kafka: KafkaFactory,
        collector: Collector,
    ) -> None:
        days, by_day = self._schedule()
        lots_sent = fse_sent = 0
        clock_topic = kafka.names(CLOCK)
        for number, day in enumerate(days, start=1):
            for event in by_day.pop(day, []):
                if event.kind == "document":
                    await self._submit_document(stub, event)
                    continue
                if event.kind == "decision":
                    await self._decide(pole, event.body, day)
                    continue
                lot = event.body if event.kind == "lot" else event.body["lot"]
                rectifies = event.body["replaces"] if event.kind == "correction" else ""
                request = lot_request(self.world, lot, event.on, self.scenario.base_dir, rectifies=rectifies)
                # One key per submission: a retry after a lost answer gets the same ARL, while a lot
                # the scenario sends twice is a duplicate lot.
                request.request_id = event_id("submit-lot", self.world, str(lots_sent))
                response = await self._submit(stub, request)
                self.submissions.append(Submission(event, lot, response.arl))
                lots_sent += 1
                fse_sent += len(lot["fse"])
            await producer.send([day_closed_record(clock_topic, self.world, day)])
            await self._wait_day(collector, kafka, day)
            if self.progress is not None:
                self.progress(
                    Progress(
                        day,
                        number,
                        len(days),
                        lots_sent,
                        fse_sent,
                        len(collector.topic(FSE_CLASSIFIED).messages),
                    )
                )

    async def _wait_day(self, collector: Collector, kafka: KafkaFactory, day: date) -> None:
        try:
            await collector.wait_day(day.isoformat(), self.outputs, self.day_timeout)
        except TimeoutError as exc:
            still_open = [
                kafka.names(spec)
                for spec in self.outputs
                if not collector.day_complete(day.isoformat(), [spec])
            ]
            shown = ", ".join(still_open[:3]) + (
                f" and {len(still_open) - 3} more" if len(still_open) > 3 else ""
            )
            raise ReplayFailed(
                f"timed out: day {day} did not go through every stage within {self.day_timeout:g}s "
                f"(still open on {shown}); see `fseflow status` and the services' logs"
            ) from exc

    async def _decide(self, pole: PoleClient, decision: dict[str, Any], day: date) -> None:
        """A technician's decision, through the pôle's API, on the (business) day of the event:
        sent as the scenario's technician, of the organism whose pôle receives the FSE."""
        fse_id = decision["fse"]
        organism = self._pole_of(fse_id)
        refused = (
            await pole.decide(
                world=self.world,
                fse=fse_id,
                outcome=decision["outcome"],
                technician=decision.get("technician") or "replay",
                organism=organism,
                on=day,
            )
            if organism is not None
            else f"fse: no pôle receives FSE {fse_id!r}: its professional is not in the world"
        )
        if refused is not None:
            self.refused_decisions[decision["fse"]] = refused

    def _pole_of(self, fse_id: str) -> str | None:
        """The organism of the professional who sent the FSE: its pôle (ingest's ps_organism)."""
        if self._poles_of_fse is None:
            organisms = {p.id: p.organism for p in self.scenario.world.professionals}
            self._poles_of_fse = {}
            for event in self.scenario.events:
                if event.kind not in ("lot", "correction"):
                    continue
                lot = event.body if event.kind == "lot" else event.body["lot"]
                if lot["ps"] in organisms:
                    for sheet in lot["fse"]:
                        self._poles_of_fse.setdefault(sheet["id"], organisms[lot["ps"]])
        return self._poles_of_fse.get(fse_id)

    async def _submit_document(self, stub: LotIngestServiceStub, event: Event) -> None:
        messages = document_messages(self.world, event.body, event.on, self.scenario.base_dir)
        try:
            await stub.SubmitDocument(iter(messages), timeout=60)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            self.refused_documents[event.body["id"]] = exc.details() or "refused"

    async def _submit(self, stub: LotIngestServiceStub, request: SubmitLotRequest) -> Any:
        # UNAVAILABLE means the lot was not taken in (ingest restarting): send it again.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_attempt(30),
            reraise=True,
        ):
            with attempt:
                return await stub.SubmitLot(request, timeout=60)
        raise AssertionError("unreachable")
