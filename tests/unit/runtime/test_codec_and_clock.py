"""Envelopes (CloudEvents headers), event ids, and day marks."""

import uuid

import pytest

from fseflow.business_clock import DayMarkTracker, day_closed_record, day_marks
from fseflow.codec import EVENT_NAMESPACE, DecodeError, decode, encode, event_id
from fseflow.contracts.clock.v1.clock_pb2 import DayClosed, DayMark
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.kafka.base import InRecord, OutRecord, next_offsets
from fseflow.topics import CLOCK, FSE_RECEIVED

ID = "5f1b3c2e-8d0a-4c57-9a43-6f0e2b9c1d77"


def incoming(out: OutRecord, offset: int = 0) -> InRecord:
    return InRecord(out.topic, out.partition or 0, offset, out.key, out.value, list(out.headers or []), 0)


def test_round_trip_keeps_type_id_and_trace() -> None:
    event = FseReceived(world="w", lot_id="lot-1")
    out = encode(
        event,
        topic="t",
        event_id=ID,
        source="ingest",
        key=b"w/n",
        trace_headers=[("traceparent", b"00-x")],
    )
    headers = dict(out.headers or [])
    assert headers["ce_type"] == b"fseflow.cti.v1.FseReceived"
    assert headers["content-type"] == b"application/protobuf"
    envelope = decode(incoming(out), FSE_RECEIVED)
    assert envelope.event_id == ID
    assert envelope.message == event
    assert envelope.traceparent == b"00-x"


def test_control_records_are_accepted_only_where_registered() -> None:
    mark = encode(DayMark(world="w", day="2026-03-02"), topic="t", event_id=ID, source="ingest")
    assert isinstance(decode(incoming(mark), FSE_RECEIVED).message, DayMark)
    with pytest.raises(DecodeError, match="not accepted"):
        decode(incoming(mark), CLOCK)


@pytest.mark.parametrize(
    ("headers", "value", "message"),
    [
        ([], b"", "ce_type: missing"),
        ([("ce_type", b"fseflow.cti.v1.FseReceived")], b"", "ce_id: missing"),
        (
            [("ce_type", b"fseflow.cti.v1.FseReceived"), ("ce_id", ID.encode())],
            b"\xff\xff\xff",
            "not a valid",
        ),
        (
            [("ce_type", b"fseflow.cti.v1.FseReceived"), ("ce_id", b"not-a-uuid")],
            b"",
            "ce_id.*not a lowercase UUID",
        ),
        (
            [("ce_type", b"fseflow.cti.v1.FseReceived"), ("ce_id", ID.upper().encode())],
            b"",
            "not a lowercase UUID",
        ),
        (
            [("ce_type", b"fseflow.cti.v1.FseReceived"), ("ce_id", ID.encode() + b"\n")],
            b"",
            "not a lowercase UUID",
        ),
        ([("ce_type", b"no.such.Type"), ("ce_id", ID.encode())], b"", "ce_type.*not accepted"),
    ],
)
def test_undecodable_records_name_what_is_wrong(
    headers: list[tuple[str, bytes]], value: bytes, message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(InRecord("t", 0, 0, None, value, headers, 0), FSE_RECEIVED)


def test_event_id_is_uuid5_and_stable() -> None:
    assert event_id("fse-received", "w", "lot-1", "fse-1") == str(
        uuid.uuid5(EVENT_NAMESPACE, "fse-received/w/lot-1/fse-1")
    )
    assert event_id("a", "b") == event_id("a", "b") != event_id("a", "c")


def test_next_offsets_is_last_plus_one_per_partition() -> None:
    records = [InRecord("t", p, o, None, b"", [], 0) for p, o in [(0, 5), (0, 7), (1, 2), (0, 6)]]
    assert next_offsets(records) == {("t", 0): 8, ("t", 1): 3}


def test_day_marks_reach_every_partition() -> None:
    marks = day_marks(
        topic="t",
        partitions=8,
        world="w",
        day="2026-03-02",
        stage="s",
        source_partition=3,
        source_partitions=8,
    )
    assert sorted(m.partition for m in marks if m.partition is not None) == list(range(8))


def test_day_closed_record_is_keyed_by_world() -> None:
    from datetime import date

    record = day_closed_record("clock", "w", date(2026, 3, 2))
    assert record.key == b"w"
    assert DayClosed.FromString(record.value).day == "2026-03-02"


def test_a_day_is_complete_only_with_every_source_mark() -> None:
    tracker = DayMarkTracker()

    def mark(source: int) -> DayMark:
        return DayMark(world="w", day="d", stage="s", source_partition=source, source_partitions=3)

    assert not tracker.observe("t", 0, mark(0))
    assert not tracker.observe("t", 0, mark(0))  # a replayed duplicate changes nothing
    assert not tracker.observe("t", 0, mark(2))
    assert tracker.observe("t", 0, mark(1))
    assert not tracker.observe("t", 0, mark(1))  # completes once
    assert tracker.complete("w", "d", "t", [0])
    assert not tracker.complete("w", "d", "t", [0, 1])
    assert not tracker.complete("other-world", "d", "t", [0])
