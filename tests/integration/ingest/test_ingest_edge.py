"""ingest's edge against the running stack: each refusal's status says what the client should do,
names the field, and a refused request leaves nothing behind (issue 9, point 3)."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from fseflow.contracts.cti.v1.ingest_pb2 import (
    ArlIssued,
    Attachment,
    DocumentSubmission,
    FseReceived,
    SubmitDocumentRequest,
    SubmitLotResponse,
)
from fseflow.topics import ARL_ISSUED, FSE_RECEIVED
from ingest.domain.limits import MAX_REQUEST_BYTES
from tests.conftest import RunningStack
from tests.integration.helpers import START, close_day, ingest, lot, new_world, reading, sheet

pytestmark = pytest.mark.integration

SUBMIT_LOT = "/fseflow.cti.v1.LotIngestService/SubmitLot"
SUBMIT_DOCUMENT = "/fseflow.cti.v1.LotIngestService/SubmitDocument"


async def _refusal(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_garbage_in_a_lot_is_invalid_argument_naming_the_field_and_nothing_is_kept(
    running: RunningStack,
) -> None:
    world = await new_world(running)
    newline_in_code = sheet("a")
    newline_in_code.acts[0].code = "AIS\n"
    huge_nir = sheet("b")
    huge_nir.nir = "1" * 50 * 1024 * 1024  # seen: UNAVAILABLE "... resend it" (MSG_SIZE_TOO_LARGE)
    cases = {
        "lot-nul": (lot(world, "lot-\x00", sheet("n")), "lot.lot_id: holds U+0000"),
        "lot-newline": (lot(world, "lot-newline", newline_in_code), "lot.fse[0].acts[0].code: holds U+000A"),
        "lot-huge-nir": (lot(world, "lot-huge-nir", huge_nir), "lot.fse[0].nir: 52428800 characters"),
        "lot-long-id": (lot(world, "x" * 100_000, sheet("l")), "lot.lot_id: 100000 characters, at most 64"),
        "lot-10000-lines": (lot(world, "lot-10000-lines", sheet("m", acts=10_000)), "lot.fse[0].acts: 10000"),
    }
    async with reading(running, world, FSE_RECEIVED, ARL_ISSUED) as seen, ingest(running) as stub:
        for name, (request, expected) in cases.items():
            error = await _refusal(stub.SubmitLot(request, timeout=60))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, name
            assert expected in (error.details() or ""), (name, error.details())
        # Not remembered: the same lot id, fixed, is taken.
        fixed = await stub.SubmitLot(lot(world, "lot-newline", sheet("a")))
        assert fixed.arl.positive
        await close_day(running, world, START)
        await seen.wait_day(START.isoformat(), [FSE_RECEIVED, ARL_ISSUED], 60)
    received = [m for m in seen.topic(FSE_RECEIVED).messages if isinstance(m, FseReceived)]
    notices = [m.arl.lot_id for m in seen.topic(ARL_ISSUED).messages if isinstance(m, ArlIssued)]
    assert [(m.lot_id, m.fse.fse_id) for m in received] == [("lot-newline", "a")]
    assert notices == ["lot-newline"]


async def test_a_request_over_the_receive_limit_is_resource_exhausted(running: RunningStack) -> None:
    world = await new_world(running)
    request = lot(world, "lot-big", sheet("a"))
    request.attachments.append(Attachment(document_id="pj", content=b"%PDF" + b"0" * MAX_REQUEST_BYTES))
    async with ingest(running) as stub:
        error = await _refusal(stub.SubmitLot(request, timeout=60))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert (await stub.SubmitLot(lot(world, "lot-after", sheet("a")))).arl.positive


async def test_a_body_that_does_not_parse_is_invalid_argument(running: RunningStack) -> None:
    async with grpc.aio.insecure_channel(running.state.ingest_address) as channel:
        submit_lot = channel.unary_unary(SUBMIT_LOT, response_deserializer=SubmitLotResponse.FromString)
        for body in (b"\xff\xff\xff\xff", b"\x1a\x05\x0a\x03lo", b"\x12\x02\xc3\x28"):  # seen: UNKNOWN
            error = await _refusal(submit_lot(body, timeout=10))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, body
            assert "request: the body is not a fseflow.cti.v1.SubmitLotRequest" in (error.details() or "")
        submit_document = channel.stream_unary(SUBMIT_DOCUMENT)
        submission = DocumentSubmission(document_id="pj", fse_id="f", ps_id="ps-1")
        metadata = SubmitDocumentRequest(metadata=submission)
        error = await _refusal(submit_document(iter([metadata.SerializeToString(), b"\xff\xff"]), timeout=10))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (error.details() or "").startswith("messages[1]: the body is not")
        health = health_pb2_grpc.HealthStub(channel)
        check = await health.Check(health_pb2.HealthCheckRequest(service="fseflow.cti.v1.LotIngestService"))
        assert check.status == health_pb2.HealthCheckResponse.SERVING


async def test_garbage_in_a_document_submission_names_the_metadata_field(running: RunningStack) -> None:
    world = await new_world(running)
    submission = DocumentSubmission(
        world=world, document_id="pj\x001", fse_id="f" * 65, ps_id="ps-1", kind="prescription"
    )
    messages = [SubmitDocumentRequest(metadata=submission), SubmitDocumentRequest(chunk=b"%PDF-1.4 ...")]
    async with ingest(running) as stub:
        error = await _refusal(stub.SubmitDocument(iter(messages), timeout=30))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "metadata.document_id: holds U+0000, a control or invisible character; "
        "metadata.fse_id: 65 characters, at most 64"
    )
