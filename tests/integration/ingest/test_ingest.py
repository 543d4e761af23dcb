"""ingest against the real broker and PostgreSQL: ARL, publication, refusals, durability."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from fseflow.codec import event_id
from fseflow.contracts.claims.v1.claims_pb2 import Lot
from fseflow.contracts.cti.v1.ingest_pb2 import ArlIssued, FseReceived, SubmitLotRequest
from fseflow.topics import ARL_ISSUED, FSE_RECEIVED
from fseflow.vocabulary.calendar import next_business_day
from tests.conftest import RunningStack
from tests.integration.helpers import START, close_day, ingest, lot, new_world, reading, sheet

pytestmark = pytest.mark.integration


async def test_positive_arl_publishes_each_fse_once_with_a_stable_id(running: RunningStack) -> None:
    world = await new_world(running)
    async with reading(running, world, FSE_RECEIVED, ARL_ISSUED) as seen, ingest(running) as stub:
        response = await stub.SubmitLot(lot(world, "lot-1", sheet("a"), sheet("b"), sheet("c")))
        arl = response.arl
        assert (arl.positive, arl.cti, arl.fse_accepted, arl.issued_on) == (True, 3, 3, "2026-03-02")
        assert "positif" in arl.text
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_RECEIVED, ARL_ISSUED], 30)
    received = seen.topic(FSE_RECEIVED)
    assert sorted(m.fse.fse_id for m in received.messages) == ["a", "b", "c"]  # type: ignore[attr-defined]
    assert received.event_ids == {event_id("fse-received", world, "lot-1", f) for f in "abc"}
    event = received.messages[0]
    assert isinstance(event, FseReceived)
    assert (event.ps_organism, event.cti, event.received_on) == ("01-331", 3, "2026-03-02")
    notices = seen.topic(ARL_ISSUED).messages
    assert [n.arl.lot_id for n in notices if isinstance(n, ArlIssued)] == ["lot-1"]


async def test_every_problem_of_a_refused_lot_and_no_fse_published(running: RunningStack) -> None:
    world = await new_world(running)
    bad = sheet("a")
    bad.acts[0].performed_on = "2026-02-30"
    bad.acts[0].coefficient = "x"
    async with reading(running, world, FSE_RECEIVED, ARL_ISSUED) as seen, ingest(running) as stub:
        malformed = (await stub.SubmitLot(lot(world, "lot-bad", bad, sheet("a")))).arl
        unknown = (await stub.SubmitLot(lot(world, "lot-stranger", sheet("s"), ps="ps-404"))).arl
        empty = (await stub.SubmitLot(lot(world, "lot-empty"))).arl
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_RECEIVED, ARL_ISSUED], 30)
    assert not malformed.positive
    assert {(e.code, e.field) for e in malformed.errors} == {
        ("FIELD_MALFORMED", "lot.fse[0].acts[0].performed_on"),
        ("FIELD_MALFORMED", "lot.fse[0].acts[0].coefficient"),
        ("FSE_ID_DUPLICATE", "lot.fse[1].fse_id"),
    }
    assert [(e.code, e.field) for e in unknown.errors] == [("PS_UNKNOWN", "lot.ps_id")]
    assert unknown.cti == 0
    assert [(e.code, e.field) for e in empty.errors] == [("LOT_EMPTY", "lot.fse")]
    assert seen.topic(FSE_RECEIVED).messages == []  # a refused lot publishes no FSE
    assert len(seen.topic(ARL_ISSUED).messages) == 3  # but every ARL is a notice


async def test_lot_id_is_remembered_across_a_restart(running: RunningStack) -> None:
    world = await new_world(running)
    async with ingest(running) as stub:
        first = (await stub.SubmitLot(lot(world, "lot-1", sheet("a")))).arl
    running.stop("ingest")
    running.start("ingest")
    async with ingest(running) as stub:
        again = (await stub.SubmitLot(lot(world, "lot-1", sheet("a")))).arl
        other = (await stub.SubmitLot(lot(world, "lot-2", sheet("b")))).arl
    assert first.positive and other.positive
    assert not again.positive
    assert [e.code for e in again.errors] == ["LOT_DUPLICATE"]


async def test_routing_follows_the_professionals_caisse(running: RunningStack) -> None:
    world = await new_world(running)
    async with ingest(running) as stub:
        paris = (await stub.SubmitLot(lot(world, "lot-p", sheet("p"), ps="ps-paris"))).arl
    assert paris.positive and paris.cti == 1


async def test_receipt_day_comes_from_the_business_clock(running: RunningStack) -> None:
    world = await new_world(running)
    async with ingest(running) as stub:
        request = SubmitLotRequest(world=world, lot=Lot(lot_id="lot-1", ps_id="ps-1", fse=[sheet("a")]))
        assert (await stub.SubmitLot(request)).arl.issued_on == START.isoformat()  # the world's start
        await close_day(running, world, date(2026, 3, 6))
        expected = next_business_day(date(2026, 3, 6)).isoformat()  # Monday 9 March
        for attempt in range(100):
            request.lot.lot_id = f"lot-{attempt + 2}"
            issued = (await stub.SubmitLot(request)).arl.issued_on
            if issued == expected:
                break
            import asyncio

            await asyncio.sleep(0.1)  # the clock follower reads the closure asynchronously
        assert issued == expected
        saturday = await stub.SubmitLot(lot(world, "lot-sat", sheet("s"), received_on="2026-03-07"))
        assert saturday.arl.issued_on == "2026-03-09"  # moved to the next business day


async def test_no_open_day_is_a_failed_precondition(running: RunningStack) -> None:
    world = await new_world(running, start=None)
    async with ingest(running) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.SubmitLot(
                SubmitLotRequest(world=world, lot=Lot(lot_id="l", ps_id="ps-1", fse=[sheet("a")]))
            )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "received_on" in (caught.value.details() or "")


async def test_a_refused_lot_gets_its_negative_arl_even_without_an_open_day(running: RunningStack) -> None:
    world = await new_world(running, start=None)
    async with ingest(running) as stub:
        response = await stub.SubmitLot(
            SubmitLotRequest(world=world, lot=Lot(ps_id="ps-1", fse=[sheet("a")]))
        )
    assert not response.arl.positive and response.arl.issued_on == ""
    assert [(e.code, e.field) for e in response.arl.errors] == [("FIELD_MISSING", "lot.lot_id")]


async def test_health_and_reflection_are_served(running: RunningStack) -> None:
    async with grpc.aio.insecure_channel(running.state.ingest_address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        check = await health.Check(health_pb2.HealthCheckRequest(service="fseflow.cti.v1.LotIngestService"))
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        services = set()
        async for answer in reflection.ServerReflectionInfo(iter([request])):
            services |= {s.name for s in answer.list_services_response.service}
    assert {"fseflow.cti.v1.LotIngestService", "grpc.health.v1.Health"} <= services


async def test_a_retried_request_gets_its_first_answer_and_a_new_request_is_a_duplicate(
    running: RunningStack,
) -> None:
    world = await new_world(running)
    first = lot(world, "lot-r", sheet("a"), sheet("b"))
    first.request_id = "7c6f3a52-1d0e-4b8a-9a77-5d2e6c1f0b11"
    async with reading(running, world, FSE_RECEIVED, ARL_ISSUED) as seen, ingest(running) as stub:
        answer = (await stub.SubmitLot(first)).arl
        retried = (await stub.SubmitLot(first)).arl  # the same request again: a lost answer
        again = SubmitLotRequest()
        again.CopyFrom(first)
        again.request_id = "0d1b8f3e-5a2c-4e9f-8b61-3c7a9e2d4f50"
        duplicate = (await stub.SubmitLot(again)).arl  # the lot sent anew
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_RECEIVED, ARL_ISSUED], 30)
    assert answer.positive and retried == answer
    assert not duplicate.positive and [e.code for e in duplicate.errors] == ["LOT_DUPLICATE"]
    assert sorted(m.fse.fse_id for m in seen.topic(FSE_RECEIVED).messages) == ["a", "b"]  # type: ignore[attr-defined]
    arls = [n.arl.positive for n in seen.topic(ARL_ISSUED).messages if isinstance(n, ArlIssued)]
    assert sorted(arls) == [False, True]  # the first ARL, then the duplicate's; not the retry's
