"""Classify a batch of received FSE (R2, R21, R23, R24), exactly once per event.

In one PostgreSQL transaction: find the events of the batch already handled (their stored
verdicts are re-published as they were), read the reference bases and the cross-FSE state for
the rest, classify them in partition order, write the new state and verdicts. Then the verdicts
are published, and each DayMark is forwarded once the verdicts before it are acknowledged.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date

import asyncpg
from google.protobuf.message import Message
from opentelemetry import trace

from fseflow.business_clock import checked_mark, day_marks
from fseflow.codec import Envelope, encode_raw, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.cti.v1.classification_pb2 import Classification, FseClassified, Reason
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.contracts.pointage.v1.pointage_pb2 import DecisionRecorded
from fseflow.db import Conn
from fseflow.dead_letters import dead_letter
from fseflow.idempotency import handled_outputs, record_outputs
from fseflow.kafka.base import OutRecord
from fseflow.streams import HandlerResult
from fseflow.telemetry.metrics import EVENT_LATENCY
from fseflow.telemetry.tracing import continue_trace
from fseflow.vocabulary.calendar import parse_day
from national_check.adapters import postgres
from national_check.adapters.events import MalformedEvent, to_claim, to_classified
from national_check.domain.claims import Claim
from national_check.domain.classify import classify
from national_check.domain.memory import AccordKey, decided_counts_from
from national_check.domain.nomenclature import Nomenclature
from national_check.metrics import CLASSIFICATIONS, REASONS, REDELIVERED

log = logging.getLogger(__name__)
SERVICE = "national-check"
# An event of the batch whose record went to the dead-letter topic instead of a verdict. It is
# not recorded as handled: re-driven after a fix (`fseflow dlq redrive`), it is classified (D46).
DEAD_LETTERED = b""
CLASSIFIED_TYPE = FseClassified.DESCRIPTOR.full_name


def _name(enum_name: str) -> str:
    return enum_name.split("_", 1)[1]


# A received FSE waiting for its verdict: envelope, event, the claim as the rules see it, world.
Pending = tuple[Envelope[Message], FseReceived, Claim, str]


@dataclass
class Outputs:
    classified_topic: str
    classified_partitions: int
    dlq_topic: str
    # Input topic -> partitions, in a fixed order: a DayMark forwarded for input partition p of
    # the i-th input carries source index (partitions of the inputs before it) + p, so that the
    # next stage knows a day is complete once it has the marks of every partition of both.
    inputs: dict[str, int]

    def source_index(self, topic: str, partition: int) -> int:
        index = 0
        for name, count in self.inputs.items():
            if name == topic:
                return index + partition
            index += count
        raise KeyError(topic)

    @property
    def sources(self) -> int:
        return sum(self.inputs.values())


class ClassifyBatch:
    def __init__(self, pool: asyncpg.Pool, nomenclature: Nomenclature, outputs: Outputs) -> None:
        self.pool = pool
        self.nomenclature = nomenclature
        self.outputs = outputs
        self.tracer = trace.get_tracer(SERVICE)
        self.latency = EVENT_LATENCY.labels(SERVICE)

    async def __call__(self, envelopes: list[Envelope[Message]]) -> HandlerResult:
        received = [e for e in envelopes if type(e.message) is FseReceived]
        marks = [e for e in envelopes if type(e.message) is DayMark]
        decisions = [e.message for e in envelopes if type(e.message) is DecisionRecorded]
        result = HandlerResult()
        if decisions:
            # Before this batch's FSE: a later FSE of the batch may be received after the decision.
            await self._remember_decisions(decisions)
        if received:
            result.records = await self._classify(received)
        for envelope in marks:
            mark = envelope.message
            assert isinstance(mark, DayMark)
            try:
                checked_mark(mark)
            except ValueError as exc:
                result.records.append(self._dead(envelope, exc))
                continue
            result.after += day_marks(
                topic=self.outputs.classified_topic,
                partitions=self.outputs.classified_partitions,
                world=mark.world,
                day=mark.day,
                stage=SERVICE,
                source_partition=self.outputs.source_index(envelope.record.topic, envelope.record.partition),
                source_partitions=self.outputs.sources,
            )
        return result

    async def _remember_decisions(self, decisions: list[DecisionRecorded]) -> None:
        """A litigieuse decided accord: its acts count for later duplicates (an upsert, so a
        redelivered decision changes nothing)."""
        acts: list[tuple[AccordKey, date]] = []
        for decision in decisions:
            if decision.outcome != "accord":
                continue
            try:
                counts_from = decided_counts_from(parse_day(decision.decided_on))
                for act in decision.acts:
                    key = (
                        decision.world,
                        decision.ps_id,
                        decision.nir,
                        parse_day(act.performed_on),
                        act.code,
                    )
                    acts.append((key, counts_from))
            except ValueError as exc:
                # Raised, not skipped: the stream processor dead-letters this decision alone.
                raise ValueError(f"decision on {decision.fse_id[:64]!r}: {exc}") from exc
        if acts:
            async with self.pool.acquire() as conn:
                await postgres.save_accorded(conn, acts)

    async def _classify(self, received: list[Envelope[Message]]) -> list[OutRecord]:
        dead: list[OutRecord] = []
        decided: dict[str, FseClassified] = {}
        async with self.pool.acquire() as conn, conn.transaction():
            handled = await handled_outputs(conn, postgres.VERDICTS, [e.event_id for e in received])
            outputs = dict(handled)
            pending: list[Pending] = []
            seen: set[str] = set(handled)
            for envelope in received:
                if envelope.event_id in seen:
                    REDELIVERED.inc()  # handled before, or twice in this batch (a producer retry)
                    continue
                seen.add(envelope.event_id)
                event = envelope.message
                assert type(event) is FseReceived
                try:
                    pending.append((envelope, event, to_claim(event), event.world))
                except MalformedEvent as exc:
                    dead.append(self._dead(envelope, exc))
                    outputs[envelope.event_id] = DEAD_LETTERED
            if pending:
                decided = await self._decide(conn, pending, outputs, dead)
            worlds = {e.event_id: e.message.world for e in received}  # type: ignore[attr-defined]
            await record_outputs(
                conn,
                postgres.VERDICTS,
                [
                    (ident, worlds[ident], output)
                    for ident, output in outputs.items()
                    if ident not in handled and output != DEAD_LETTERED
                ],
            )
        outcomes = Counter(v.classification for v in decided.values())
        for outcome, count in outcomes.items():
            CLASSIFICATIONS.labels(_name(Classification.Name(outcome))).inc(count)
        for reason, count in Counter(r for v in decided.values() for r in v.reasons).items():
            REASONS.labels(_name(Reason.Name(reason))).inc(count)
        return dead + self._records(received, outputs, decided)

    async def _decide(
        self,
        conn: Conn,
        pending: list[Pending],
        outputs: dict[str, bytes],
        dead: list[OutRecord],
    ) -> dict[str, FseClassified]:
        patients = {(world, claim.nir) for _, _, claim, world in pending}
        beneficiaries = await postgres.beneficiaries(conn, patients)
        stays = await postgres.hospital_stays(conn, patients)
        prescribers = await postgres.known_prescribers(
            conn,
            {(world, claim.prescriber) for _, _, claim, world in pending if claim.prescriber},
        )
        is_ais3 = self.nomenclature.is_limited
        memory = await postgres.batch_memory(
            conn,
            acts=(
                (world, claim.ps_id, claim.nir, act.on, act.code)
                for _, _, claim, world in pending
                for act in claim.acts
            ),
            ais3_days=(
                (world, claim.nir, act.on)
                for _, _, claim, world in pending
                for act in claim.acts
                if is_ais3(act.code, act.coefficient)
            ),
        )
        decided: dict[str, FseClassified] = {}
        for envelope, event, claim, world in pending:
            key = (world, claim.nir)
            beneficiary = beneficiaries.get(key)
            try:
                verdict = classify(
                    claim,
                    beneficiary=beneficiary,
                    stays=stays.get(key, ()),
                    prescriber_known=(world, claim.prescriber) in prescribers,
                    nomenclature=self.nomenclature,
                    prior=memory.view(world, claim.received_on),
                )
            except Exception as exc:  # noqa: BLE001 - one poisoned FSE must not stop the others
                dead.append(self._dead(envelope, exc))
                outputs[envelope.event_id] = DEAD_LETTERED
                continue
            memory.add_ais3(world, claim.nir, verdict.ais3_by_day)
            memory.add_accorded(world, claim.ps_id, claim.nir, verdict.accorded_acts)
            classified = to_classified(
                event,
                verdict,
                patient_organism=beneficiary.organism if beneficiary else "",
                source_event_id=envelope.event_id,
            )
            outputs[envelope.event_id] = classified.SerializeToString()
            decided[envelope.event_id] = classified
        await postgres.save_memory(conn, memory)
        return decided

    def _records(
        self,
        received: list[Envelope[Message]],
        outputs: dict[str, bytes],
        decided: dict[str, FseClassified],
    ) -> list[OutRecord]:
        now_ms = time.time() * 1000
        records: list[OutRecord] = []
        published: set[str] = set()
        for envelope in received:
            ident = envelope.event_id
            payload = outputs[ident]
            if payload == DEAD_LETTERED or ident in published:
                continue
            published.add(ident)
            # A verdict stored by an earlier attempt is re-published byte for byte.
            classified = decided.get(ident) or FseClassified.FromString(payload)
            trace_headers = continue_trace(
                self.tracer,
                "national-check classify",
                envelope.record.headers,
                {"fseflow.fse_id": classified.fse_id},
            )
            records.append(
                encode_raw(
                    payload,
                    CLASSIFIED_TYPE,
                    topic=self.outputs.classified_topic,
                    event_id=event_id("fse-classified", ident),
                    source=SERVICE,
                    key=f"{classified.world}/{classified.fse_id}".encode(),
                    trace_headers=trace_headers,
                )
            )
            if classified.received_at_ms:
                self.latency.observe(max(0.0, now_ms - classified.received_at_ms) / 1000)
        return records

    def _dead(self, envelope: Envelope[Message], error: BaseException) -> OutRecord:
        return dead_letter(
            service=SERVICE,
            dlq_topic=self.outputs.dlq_topic,
            record=envelope.record,
            error=error,
            event=envelope.event_id,
        )
