"""Documents through the CTI front door: split off lots, or sent on their own, never on Kafka."""

from __future__ import annotations

import grpc
import pytest

from fseflow.contracts.claims.v1.claims_pb2 import DocumentRef
from fseflow.contracts.cti.v1.ingest_pb2 import (
    Attachment,
    DocumentSubmission,
    FseReceived,
    SubmitDocumentRequest,
)
from fseflow.contracts.scor.v1 import scor_pb2
from fseflow.topics import DOCUMENT_STORED, FSE_RECEIVED
from fseflow_tools.replay.documents import synthetic_scan
from tests.conftest import RunningStack
from tests.integration.helpers import START, close_day, ingest, lot, new_world, reading, sheet
from tests.integration.scor_store.test_scor_store import scor, service

pytestmark = pytest.mark.integration


def with_document(fse_id: str, document_id: str, kind: str = "prescription") -> object:
    fse = sheet(fse_id)
    fse.document.CopyFrom(DocumentRef(document_id=document_id, kind=kind, quality="ok"))
    return fse


async def test_attached_documents_are_stored_before_the_fse_are_published(running: RunningStack) -> None:
    world = await new_world(running)
    request = lot(world, "lot-d", with_document("f1", "pj-1"), with_document("f2", "pj-2", "fsp"))  # type: ignore[arg-type]
    request.attachments.extend(
        [
            Attachment(document_id="pj-1", content=synthetic_scan("prescription", "ok")),
            Attachment(document_id="pj-2", content=synthetic_scan("fsp", "unreadable")),
        ]
    )
    async with reading(running, world, FSE_RECEIVED, DOCUMENT_STORED) as seen, ingest(running) as stub:
        arl = (await stub.SubmitLot(request)).arl
        await close_day(running, world, START)
        await seen.wait_day(START.isoformat(), [FSE_RECEIVED, DOCUMENT_STORED], 30)
    assert arl.positive, arl.errors
    stored = {e.document.metadata.document_id: e.document for e in seen.topic(DOCUMENT_STORED).messages}  # type: ignore[attr-defined]
    assert set(stored) == {"pj-1", "pj-2"}
    assert stored["pj-1"].exploitable and not stored["pj-2"].exploitable
    assert stored["pj-1"].metadata.insured_organism == "01-331"  # from the beneficiary base
    assert stored["pj-1"].metadata.channel == "paper"  # ps-1 is not a Scor user in this world
    for event in seen.topic(FSE_RECEIVED).messages:
        assert isinstance(event, FseReceived)
        assert event.fse.document.document_id in ("pj-1", "pj-2")
        assert event.ByteSize() < 1000  # the reference only, never the bytes


async def test_a_bad_attachment_refuses_the_lot_and_stores_nothing(running: RunningStack) -> None:
    world = await new_world(running)
    request = lot(world, "lot-bad", with_document("f1", "pj-1"))  # type: ignore[arg-type]
    request.attachments.extend(
        [
            Attachment(document_id="pj-1", content=b"GIF89a not a scan"),
            Attachment(document_id="pj-stray", content=synthetic_scan("prescription", "ok")),
        ]
    )
    async with ingest(running) as stub:
        arl = (await stub.SubmitLot(request)).arl
    assert not arl.positive
    assert {(e.code, e.field) for e in arl.errors} == {
        ("DOCUMENT_REJECTED", "attachments[0].content"),
        ("ATTACHMENT_UNREFERENCED", "attachments[1].document_id"),
    }
    async with scor(running, service(running, "pointage")) as pointage:
        listed = await pointage.ListDocuments(scor_pb2.ListDocumentsRequest(world=world, fse_id="f1"))
    assert list(listed.documents) == []


async def test_a_document_sent_later_finds_the_organism_of_its_fse_patient(running: RunningStack) -> None:
    world = await new_world(running)
    async with ingest(running) as stub:
        assert (await stub.SubmitLot(lot(world, "lot-1", sheet("f1")))).arl.positive
        submission = DocumentSubmission(
            world=world, document_id="pj-late", fse_id="f1", ps_id="ps-paris", kind="fsp"
        )
        content = synthetic_scan("fsp", "ok")
        answer = await stub.SubmitDocument(
            iter([SubmitDocumentRequest(metadata=submission), SubmitDocumentRequest(chunk=content)])
        )
        assert answer.exploitable and answer.received_on == START.isoformat()
        submission.ps_id = "ps-404"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.SubmitDocument(
                iter([SubmitDocumentRequest(metadata=submission), SubmitDocumentRequest(chunk=content)])
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "metadata.ps_id" in (caught.value.details() or "")
    async with scor(running, service(running, "pointage")) as pointage:
        info = (
            await pointage.StatDocument(scor_pb2.StatDocumentRequest(world=world, document_id="pj-late"))
        ).document
    # The FSE's patient is insured at 01-331, although the sender is a Paris nurse (01-751).
    assert (info.metadata.insured_organism, info.metadata.receiving_organism) == ("01-331", "01-751")
