"""pointage against the real broker and PostgreSQL: events published as national-check and
scor-store publish them, redelivered and out of order; its API's answers; its SQL calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from fseflow.business_clock import day_marks
from fseflow.codec import encode, event_id
from fseflow.contracts.cti.v1.classification_pb2 import (
    CLASSIFICATION_ACCORD,
    CLASSIFICATION_LITIGIEUSE,
    REASON_PRESCRIBER_UNKNOWN,
    Classification,
    FseClassified,
)
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter
from fseflow.contracts.pointage.v1.pointage_pb2 import AccordsValidated, DocumentMatched, FseDelivered
from fseflow.contracts.scor.v1.scor_pb2 import DocumentInfo, DocumentMetadata, DocumentStored
from fseflow.kafka.base import OutRecord
from fseflow.topics import DECISIONS, DOCUMENT_STORED, FSE_CLASSIFIED, caisse_topics, dead_letter_topic
from fseflow.vocabulary import calendar
from tests.conftest import RunningStack
from tests.integration.helpers import new_world, reading, sheet
from tests.integration.technicians import add_technician

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 2)


def classified(
    world: str, fse_id: str, outcome: Classification = CLASSIFICATION_ACCORD, organism: str = "01-331"
) -> FseClassified:
    return FseClassified(
        world=world,
        fse_id=fse_id,
        lot_id="lot-1",
        ps_id="ps-1",
        ps_organism=organism,
        patient_organism="01-331",
        cti=3,
        received_on=DAY.isoformat(),
        checked_on=DAY.isoformat(),
        classification=outcome,
        reasons=[REASON_PRESCRIBER_UNKNOWN] if outcome == CLASSIFICATION_LITIGIEUSE else [],
        amount_cents=756,
        fse=sheet(fse_id),
    )


def stored(world: str, document_id: str, fse_id: str, on: date = DAY) -> DocumentStored:
    return DocumentStored(
        document=DocumentInfo(
            metadata=DocumentMetadata(
                world=world, document_id=document_id, fse_id=fse_id, ps_id="ps-1", kind="prescription",
                received_on=on.isoformat(), insured_organism="01-331", receiving_organism="01-331",
            ),
            exploitable=True,
            stored_on=on.isoformat(),
        )
    )  # fmt: skip


class Publisher:
    def __init__(self, running: RunningStack) -> None:
        self.kafka = running.kafka()
        self.classified_topic = self.kafka.names(FSE_CLASSIFIED)
        self.stored_topic = self.kafka.names(DOCUMENT_STORED)
        self.partitions = self.kafka.settings.kafka_partitions  # the data topics' count (registry)

    async def send(self, records: list[OutRecord]) -> None:
        producer = self.kafka.producer()
        await producer.start()
        try:
            await producer.send(records)
        finally:
            await producer.stop()

    def fse(self, event: FseClassified) -> OutRecord:
        return encode(
            event,
            topic=self.classified_topic,
            event_id=event_id("fse-classified", event.world, event.fse_id),
            source="national-check",
            key=f"{event.world}/{event.fse_id}".encode(),
        )

    def document(self, event: DocumentStored) -> OutRecord:
        meta = event.document.metadata
        return encode(
            event,
            topic=self.stored_topic,
            event_id=event_id("document-stored", meta.world, meta.document_id),
            source="scor-store",
            key=f"{meta.world}/{meta.fse_id}".encode(),
        )

    def close(self, world: str, day: date) -> list[OutRecord]:
        """The day's marks as national-check (16 sources) and scor-store (one) forward them."""
        marks = [
            record
            for source in range(16)
            for record in day_marks(
                topic=self.classified_topic,
                partitions=FSE_CLASSIFIED.partition_count(self.partitions),
                world=world,
                day=day.isoformat(),
                stage="national-check",
                source_partition=source,
                source_partitions=16,
            )
        ]
        return marks + day_marks(
            topic=self.stored_topic,
            partitions=DOCUMENT_STORED.partition_count(self.partitions),
            world=world,
            day=day.isoformat(),
            stage="scor-store",
            source_partition=0,
            source_partitions=1,
        )


async def test_redelivered_and_out_of_order_events_give_one_delivery_and_one_match(
    running: RunningStack,
) -> None:
    world = await new_world(running)
    publisher = Publisher(running)
    specs = caisse_topics("01-331")
    await running.kafka().ensure_topics(specs)
    async with reading(running, world, *specs) as seen:
        # The document comes first, then its FSE; both are delivered twice (at least once).
        await publisher.send([publisher.document(stored(world, "d-1", "f-1"))] * 2)
        await publisher.send([publisher.fse(classified(world, "f-1"))] * 2)
        await publisher.send([publisher.fse(classified(world, "f-2", CLASSIFICATION_LITIGIEUSE))])
        # Marks of a day the pôle must not close yet: only part of national-check's sources.
        await publisher.send(publisher.close(world, DAY)[:64])
        await publisher.send(publisher.close(world, DAY)[64:])
        await seen.wait_day(DAY.isoformat(), specs, 60)
    messages = [m for spec in specs for m in seen.topic(spec).messages]
    delivered = [m for m in messages if isinstance(m, FseDelivered)]
    assert sorted((m.fse_id, m.classification, m.delivered_on) for m in delivered) == [
        ("f-1", "accord", "2026-03-03"),
        ("f-2", "litigieuse", "2026-03-03"),
    ]
    matched = [m for m in messages if isinstance(m, DocumentMatched)]
    assert [(m.document_id, m.fse_id, m.matched_on) for m in matched] == [("d-1", "f-1", "2026-03-03")]
    assert delivered[0].cost_cents == 27 and delivered[0].amount_cents == 756


async def test_a_poisoned_event_goes_to_the_dead_letter_topic_naming_the_field(running: RunningStack) -> None:
    world = await new_world(running)
    publisher = Publisher(running)
    record = publisher.fse(classified(world, "f-bad", organism="Gironde"))
    await publisher.send([record])
    dlq = running.kafka().consumer(
        [dead_letter_topic("pointage")], group_id=None, assign_all_from="beginning"
    )
    await dlq.start()
    letter = None
    try:
        for _ in range(600):
            for found in await dlq.poll_batch(500, 0.1):
                candidate = DeadLetter.FromString(found.value)
                if candidate.key == record.key:
                    letter = candidate
            if letter is not None:
                break
    finally:
        await dlq.stop()
    assert letter is not None, "no dead letter"
    assert "ps_organism" in letter.error and "RR-CCC" in letter.error
    assert letter.value == record.value  # the original bytes, to replay once fixed


async def _api(
    running: RunningStack, method: str, path: str, body: Any = None, token: str | None = None
) -> Any:
    """As technician t-1 of 01-331 (a new token of theirs) unless ``token`` is given."""
    if token is None:
        token = await add_technician(running, "t-1", "01-331")
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, running.state.pointage_url + path, json=body) as response,
    ):
        return response.status, await response.json(content_type=None)


async def test_the_decisions_api_names_what_is_wrong(running: RunningStack) -> None:
    world = await new_world(running)
    publisher = Publisher(running)
    specs = caisse_topics("01-331")
    await running.kafka().ensure_topics(specs)
    async with reading(running, world, *specs, DECISIONS) as seen:
        await publisher.send(
            [
                publisher.fse(classified(world, "f-acc")),
                publisher.fse(classified(world, "f-lit", CLASSIFICATION_LITIGIEUSE)),
            ]
        )
        await publisher.send(publisher.close(world, DAY))
        await seen.wait_day(DAY.isoformat(), specs, 60)

        decision = {
            "world": world,
            "fse": "f-lit",
            "outcome": "accord",
            "technician": "t-1",
            "on": "2026-03-03",
        }
        assert (await _api(running, "POST", "/api/v1/decisions", decision, token="wrong"))[0] == 401
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "on": "2026-02-30"})
        assert (status, body["error"]["field"]) == (400, "on")
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "world": None})
        assert (status, body["error"]["field"]) == (400, "world")
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "outcome": "maybe"})
        assert (status, body["error"]["field"]) == (400, "outcome")
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "fse": "nope"})
        assert (status, body["error"]["field"]) == (404, "fse")
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "fse": "f-acc"})
        assert status == 409 and "not waiting" in body["error"]["message"]
        status, body = await _api(running, "POST", "/api/v1/decisions", {**decision, "on": "2026-03-02"})
        assert status == 409 and "reaches the pôle on 2026-03-03" in body["error"]["message"]

        status, body = await _api(running, "POST", "/api/v1/decisions", decision)
        assert (status, body["state"], body["pay_on"], body["already_decided"]) == (
            200,
            "validated",
            "2026-03-09",
            False,
        )
        # Sent again (a retried request): answered, not decided twice.
        status, body = await _api(running, "POST", "/api/v1/decisions", decision)
        assert (status, body["already_decided"]) == (200, True)

        validate = {"world": world, "organism": "01-331", "technician": "t-1", "on": "2026-03-03"}
        status, body = await _api(running, "POST", "/api/v1/accords/validate", validate)
        assert (status, body["validated"]) == (200, 1)
        assert (await _api(running, "POST", "/api/v1/accords/validate", validate))[1]["validated"] == 0
        await seen.wait_until(lambda: bool(seen.topic(DECISIONS).messages), 30)
    validations = [
        m for m in seen.topic(caisse_topics("01-331")[1]).messages if isinstance(m, AccordsValidated)
    ]
    assert [(v.by, [f.fse_id for f in v.fse]) for v in validations] == [("t-1", ["f-acc"])]
    assert len(seen.topic(DECISIONS).messages) == 1  # for the national check, once


async def test_the_sql_calendar_agrees_with_the_python_one(running: RunningStack) -> None:
    conn = await asyncpg.connect(running.state.database_url)
    try:
        days = [date(2026, 1, 1) + timedelta(days=i) for i in range(366)]
        rows = await conn.fetch(
            "SELECT d, pointage.next_business_day(d) AS next FROM unnest($1::date[]) AS d", days
        )
    finally:
        await conn.close()
    assert {r["d"]: r["next"] for r in rows} == {d: calendar.next_business_day(d) for d in days}
