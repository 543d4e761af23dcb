"""A record that fails because of itself never stalls a consumer: every kind of poison, on every
input topic of every service, lands in that service's dead-letter topic with its error and its
coordinates, the services stay ready, and a valid replay afterwards goes through."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf.message import Message

from fseflow.contracts.claims.v1.claims_pb2 import ActLine, Fse
from fseflow.contracts.clock.v1.clock_pb2 import DayClosed, DayMark
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.contracts.pointage.v1.pointage_pb2 import DecisionRecorded, FsePaid
from fseflow.contracts.relances.v1.relances_pb2 import RecoveryOrdered
from fseflow.contracts.scor.v1.scor_pb2 import DocumentInfo, DocumentMetadata, DocumentStored
from fseflow.topics import (
    CLOCK,
    DECISIONS,
    DOCUMENT_STORED,
    FSE_CLASSIFIED,
    FSE_RECEIVED,
    RECOVERY_ORDERS,
    SETTLEMENTS,
    TopicSpec,
    dead_letter_topic,
)
from fseflow_tools.replay.driver import Replay
from fseflow_tools.replay.scenario import load
from fseflow_tools.stack import readiness
from tests.conftest import RunningStack
from tests.integration.helpers import produce_raw

pytestmark = pytest.mark.integration

NUL_WORLD = "poison\x00world"


@dataclass(frozen=True)
class Input:
    spec: TopicSpec
    # The services whose stream processors consume the topic (the clock is also followed by
    # every service outside a stream processor: that reader skips what it cannot read).
    consumers: tuple[str, ...]
    # Decodable records with valid headers whose content the consumer cannot process.
    bad_content: tuple[Message, ...]
    carries_marks: bool = True


INPUTS = (
    Input(
        CLOCK,
        ("ingest", "pointage", "scor-store"),
        (DayClosed(world="not a world!", day="2026-03-02"), DayClosed(world="w", day="2026-02-30")),
        carries_marks=False,
    ),
    Input(
        FSE_RECEIVED,
        ("national-check",),
        (
            FseReceived(
                world=NUL_WORLD,
                lot_id="l",
                ps_id="ps-1",
                ps_organism="01-331",
                received_on="2026-03-02",
                fse=Fse(
                    fse_id="f",
                    nir="2860133063082",
                    nir_key="17",
                    acts=[ActLine(code="AMI", coefficient="1", performed_on="2026-03-02")],
                ),
            ),
        ),
    ),
    Input(
        DECISIONS,
        ("national-check",),
        (DecisionRecorded(world="w", fse_id="f", outcome="accord", decided_on="soon"),),
    ),
    Input(
        FSE_CLASSIFIED,
        ("pointage",),
        (
            FseClassified(world="w", fse_id="f", ps_organism="Gironde"),
            FseClassified(
                world=NUL_WORLD,
                fse_id="f",
                ps_organism="01-331",
                received_on="2026-03-02",
                checked_on="2026-03-02",
            ),
        ),
    ),
    Input(
        DOCUMENT_STORED,
        ("pointage",),
        (
            DocumentStored(
                document=DocumentInfo(
                    metadata=DocumentMetadata(world="w", document_id="d", fse_id="", received_on="2026-03-02")
                )
            ),
        ),
    ),
    Input(
        RECOVERY_ORDERS,
        ("pointage",),
        (
            RecoveryOrdered(
                world="w", fse_id="f", amount_cents=-5, indu_on="2026-03-02", recover_on="2026-05-02"
            ),
        ),
        carries_marks=False,
    ),
    Input(SETTLEMENTS, ("relances",), (FsePaid(world="w", fse_id="f", paid_on="2026-13-01"),)),
)

BAD_MARKS = (
    DayMark(world="w", day="2026-03-02", source_partition=3, source_partitions=0),
    DayMark(world="w", day="2026-03-02", source_partition=9, source_partitions=8),
    DayMark(world="w", day="yesterday", source_partition=0, source_partitions=8),
)


def _poisons(item: Input) -> list[tuple[str, list[tuple[str, bytes]], bytes]]:
    """(what, headers, value) of every poison kind for one topic."""
    a_type = next(iter(item.spec._accepts))

    def headers(type_name: str, ident: str) -> list[tuple[str, bytes]]:
        return [("ce_type", type_name.encode()), ("ce_id", ident.encode())]

    valid = item.bad_content[0].SerializeToString()
    cases = [
        ("no ce_type", [("ce_id", str(uuid.uuid4()).encode())], valid),
        ("unknown ce_type", headers("fseflow.nothing.v1.Nope", str(uuid.uuid4())), valid),
        ("ce_id not a uuid", headers(a_type, "not-a-uuid"), valid),
        ("ce_id empty", headers(a_type, ""), valid),
        ("value not protobuf", headers(a_type, str(uuid.uuid4())), b"\xff\xff\xff\xff"),
    ]
    cases += [
        (
            f"bad {type(m).__name__} #{i}",
            headers(m.DESCRIPTOR.full_name, str(uuid.uuid4())),
            m.SerializeToString(),
        )
        for i, m in enumerate(item.bad_content)
    ]
    if item.carries_marks:
        cases += [
            (f"bad DayMark #{i}", headers(m.DESCRIPTOR.full_name, str(uuid.uuid4())), m.SerializeToString())
            for i, m in enumerate(BAD_MARKS)
        ]
    return cases


async def _dead_letters(
    running: RunningStack,
    services: set[str],
    keys: set[bytes],
    until: Callable[[dict[bytes, list[DeadLetter]]], bool],
) -> dict[bytes, list[DeadLetter]]:
    """Dead letters of ``keys`` in the DLQ topics of ``services``, by key, read until ``until``."""
    kafka = running.kafka()
    consumer = kafka.consumer(
        [dead_letter_topic(s) for s in sorted(services)], group_id=None, assign_all_from="beginning"
    )
    found: dict[bytes, list[DeadLetter]] = {}
    await consumer.start()
    try:
        for _ in range(1200):  # at most 1200 polls of 0.1 s
            for record in await consumer.poll_batch(1000, 0.1):
                letter = DeadLetter.FromString(record.value)
                if letter.key in keys:
                    found.setdefault(letter.key, []).append(letter)
            if until(found):
                break
    finally:
        await consumer.stop()
    return found


async def test_every_poison_on_every_input_topic_is_dead_lettered_and_nothing_stalls(
    running: RunningStack,
) -> None:
    names = running.kafka().names
    expected: dict[bytes, tuple[str, str, tuple[str, ...]]] = {}  # key -> (topic, what, services)
    records = []
    for item in INPUTS:
        topic = names(item.spec)
        for what, headers, value in _poisons(item):
            key = f"poison-{uuid.uuid4().hex}".encode()
            expected[key] = (topic, what, item.consumers)
            records.append((topic, key, headers, value))
    await asyncio.to_thread(produce_raw, running, records)

    services = {s for item in INPUTS for s in item.consumers}

    def complete(found: dict[bytes, list[DeadLetter]]) -> bool:
        return all(
            {letter.service for letter in found.get(key, [])} >= set(consumers)
            for key, (_, _, consumers) in expected.items()
        )

    found = await _dead_letters(running, services, set(expected), complete)
    missing = [
        f"{what} on {topic} for {sorted(set(consumers) - {letter.service for letter in found.get(key, [])})}"
        for key, (topic, what, consumers) in expected.items()
        if not {letter.service for letter in found.get(key, [])} >= set(consumers)
    ]
    assert not missing, "not dead-lettered: " + "; ".join(missing)
    for key, letters in found.items():
        topic, what, _ = expected[key]
        for letter in letters:
            assert letter.source_topic == topic, what
            assert letter.error, what
            assert letter.value is not None and letter.failed_at, what
    for name, process in running.state.services.items():
        assert readiness(process.metrics_port) is True, name


async def test_a_valid_replay_goes_through_after_the_poison(running: RunningStack) -> None:
    scenario = load(Path(__file__).parents[2] / "e2e" / "scenarios" / "every-reason.json")
    results = await Replay(scenario, running.endpoints).run()
    assert results["totals"]["fse"] == len(results["fse"]) > 0
    assert all(
        entry["classification"] or entry["status"] == "lot_refused" for entry in results["fse"].values()
    )
