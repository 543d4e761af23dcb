"""Fuzzing through the running ingest over gRPC (a tenth of the unit fuzz's cases): malformed lots,
corrupt bodies and odd metadata headers. Each answer is the one the pure checks predict — an
INVALID_ARGUMENT naming a field, or an ARL whose every problem names a field — never UNAVAILABLE,
UNKNOWN or INTERNAL; the services stay up; nothing is published for a refused lot, and every FSE
published is classified (ingest and the national check agree on what is well formed).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from dataclasses import dataclass, field

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st

from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import ArlIssued, FseReceived, SubmitLotRequest, SubmitLotResponse
from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow.topics import ARL_ISSUED, FSE_CLASSIFIED, FSE_RECEIVED
from ingest.entrypoints.grpc import Unreadable, tolerant
from tests.conftest import RunningStack
from tests.fuzzing import Case, counted, edge_answer, fuzz_settings, mutated_lots, resolves
from tests.integration.helpers import START, close_day, lot, new_world, reading, sheet

pytestmark = pytest.mark.integration

SUBMIT_LOT = "/fseflow.cti.v1.LotIngestService/SubmitLot"
# Problems only the database can find: they may come on top of the predicted ones.
DATABASE_PROBLEMS = {"LOT_DUPLICATE", "PS_UNKNOWN", "ORGANISM_UNROUTABLE"}

# Metadata a client may send: W3C trace context in any state, and headers of its own.
HEADER_VALUES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
METADATA = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(["traceparent", "tracestate", "baggage"]),
            st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
            .filter(lambda k: not k.endswith("-bin"))  # binary headers carry bytes
            .map(lambda k: f"x-{k}"),
        ),
        st.one_of(st.just("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), HEADER_VALUES),
    ),
    max_size=3,
)


@dataclass
class Seen:
    positive: set[str] = field(default_factory=set)
    negative: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)


def _check(
    sent: SubmitLotRequest, response: SubmitLotResponse | None, error: grpc.RpcError | None, world: str
) -> None:
    expected = edge_answer(sent)
    if error is not None and error.code() == grpc.StatusCode.FAILED_PRECONDITION:
        # A well-formed lot without a day, for a world (a corrupted name) that has no open day.
        assert not sent.received_on and sent.world != world and not expected.invalid and not expected.problems
        return
    if error is not None:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
        assert expected.invalid, error.details()
        assert any(path in (error.details() or "") for path in expected.invalid), error.details()
        return
    assert response is not None and not expected.invalid
    arl = response.arl
    fields = {e.field for e in arl.errors}
    assert set(expected.problems) <= fields, (expected.problems, list(arl.errors))
    extra = {e.code for e in arl.errors if e.field not in expected.problems}
    assert extra <= DATABASE_PROBLEMS, list(arl.errors)
    assert all(resolves(sent, f) for f in fields), fields
    assert arl.positive == (not arl.errors)


def _fuzz(address: str, world: str) -> Seen:
    seen = Seen()
    numbers = itertools.count()
    channel = grpc.insecure_channel(address)
    raw = channel.unary_unary(SUBMIT_LOT, response_deserializer=SubmitLotResponse.FromString)

    @fuzz_settings(share=0.1, least=30)
    @given(
        case=mutated_lots(world=world, mutate_world=False),
        metadata=METADATA,
        corruption=st.sampled_from(["none", "none", "none", "truncate", "flip"]),
        position=st.integers(min_value=0),
    )
    @counted
    def check(case: Case, metadata: list[tuple[str, str]], corruption: str, position: int) -> None:
        request = case.request
        if request.lot.lot_id == "lot":
            request.lot.lot_id = f"fz-{next(numbers)}-{os.getpid()}"
        body = request.SerializeToString()
        if corruption != "none" and body:
            at = position % len(body)
            flipped = body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1 :]
            body = body[:at] if corruption == "truncate" else flipped
        parsed = tolerant(SubmitLotRequest)(body)
        try:
            response: SubmitLotResponse | None = raw(body, metadata=metadata, timeout=60)
            error = None
        except grpc.RpcError as exc:
            response, error = None, exc
        if isinstance(parsed, Unreadable):
            assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "request: the body is not a fseflow.cti.v1.SubmitLotRequest" in (error.details() or "")
            return
        _check(parsed, response, error, world)
        if parsed.world != world:
            return  # a corrupted body may name another world: its records are not watched
        if error is not None:
            seen.invalid.add(parsed.lot.lot_id)
        elif response is not None and response.arl.positive:
            seen.positive.add(parsed.lot.lot_id)
        else:
            seen.negative.add(parsed.lot.lot_id)

    try:
        check()
    finally:
        channel.close()
    return seen


async def test_fuzzed_lots_get_a_status_naming_a_field_and_refused_lots_publish_nothing(
    running: RunningStack,
) -> None:
    world = await new_world(running)
    log_before = len(running.log("ingest"))
    async with reading(running, world, FSE_RECEIVED, ARL_ISSUED, FSE_CLASSIFIED) as observed:
        seen = await asyncio.to_thread(_fuzz, running.state.ingest_address, world)
        # Still up, and still taking lots.
        async with grpc.aio.insecure_channel(running.state.ingest_address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            check = health_pb2.HealthCheckRequest(service="fseflow.cti.v1.LotIngestService")
            assert (await health.Check(check)).status == health_pb2.HealthCheckResponse.SERVING
            after = await LotIngestServiceStub(channel).SubmitLot(lot(world, "fz-after", sheet("after")))
            assert after.arl.positive
        assert "internal error" not in running.log("ingest")[log_before:]
        await close_day(running, world, START)
        await observed.wait_day(START.isoformat(), [FSE_RECEIVED, ARL_ISSUED, FSE_CLASSIFIED], 120)
    received = [m for m in observed.topic(FSE_RECEIVED).messages if isinstance(m, FseReceived)]
    notices = {m.arl.lot_id for m in observed.topic(ARL_ISSUED).messages if isinstance(m, ArlIssued)}
    classified = [m for m in observed.topic(FSE_CLASSIFIED).messages if isinstance(m, FseClassified)]
    assert {m.lot_id for m in received} == seen.positive | {"fz-after"}
    assert not (seen.invalid - seen.positive - seen.negative) & notices  # never an ARL notice
    assert len(classified) == len(received)  # every published FSE read and classified
    assert seen.positive and seen.negative and seen.invalid  # the fuzz reached every outcome
