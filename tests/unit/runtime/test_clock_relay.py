"""The one clock relay every service uses: DayMarks on each partition of its outputs; with the day's
own work (scor-store's purge and aids), that work's records first and the marks after them."""

from __future__ import annotations

from datetime import date

from google.protobuf.message import Message

from fseflow.business_clock import ClockRelay, day_closed_record
from fseflow.codec import Envelope, decode, encode, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted
from fseflow.kafka.base import InRecord, OutRecord
from fseflow.topics import CLOCK

DAY = date(2026, 3, 2)


def closure() -> list[Envelope[Message]]:
    out = day_closed_record(CLOCK.name, "w-1", DAY)
    return [decode(InRecord(out.topic, 0, 0, out.key, out.value, list(out.headers or []), 0), CLOCK)]


def marks_of(records: list[OutRecord]) -> list[tuple[str, int | None]]:
    mark = ("ce_type", DayMark.DESCRIPTOR.full_name.encode())
    return [(r.topic, r.partition) for r in records if mark in (r.headers or [])]


async def test_marks_on_every_partition_of_every_output() -> None:
    result = await ClockRelay("ingest", {"a": 2, "b": 1})(closure())
    assert marks_of(result.records) == [("a", 0), ("a", 1), ("b", 0)]
    assert result.after == []


async def test_the_day_work_goes_first_and_the_marks_after_it() -> None:
    seen: list[tuple[str, date]] = []

    async def work(world: str, day: date) -> list[OutRecord]:
        seen.append((world, day))
        aid = AidGranted(world=world, ps_id="ps-1", granted_on=day.isoformat())
        return [encode(aid, topic="aids", event_id=event_id("aid", world, "ps-1"), source="scor-store")]

    result = await ClockRelay("scor-store", {"docs": 2}, work)(closure())
    assert seen == [("w-1", DAY)]
    assert [r.topic for r in result.records] == ["aids"]
    assert marks_of(result.after) == [("docs", 0), ("docs", 1)]
