"""scor-store against the real stack: mTLS, habilitations, audit, durability, fsck, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest

from fseflow.contracts.scor.v1 import scor_pb2, scor_pb2_grpc
from fseflow.topics import DOCUMENT_STORED
from fseflow.vocabulary.documents import CHUNK_BYTES
from fseflow_tools import dev_ca
from tests.conftest import RunningStack
from tests.integration.helpers import close_day, new_world, reading
from tests.unit.scor_store.test_scor import pdf

pytestmark = pytest.mark.integration


def certificate(running: RunningStack, name: str, **habilitation: str) -> dev_ca.Issued:
    directory = Path(running.state.certs_dir)
    issued = dev_ca.Issued(directory / f"{name}.crt", directory / f"{name}.key")
    if not issued.cert.exists():
        ca = dev_ca.Issued(directory / "ca.crt", directory / "ca.key")
        issued = dev_ca.issue(ca, directory, name, **habilitation)  # type: ignore[arg-type]
    return issued


@asynccontextmanager
async def scor(
    running: RunningStack, issued: dev_ca.Issued | None
) -> AsyncIterator[scor_pb2_grpc.ScorStoreServiceStub]:
    ca = (Path(running.state.certs_dir) / "ca.crt").read_bytes()
    credentials = grpc.ssl_channel_credentials(
        ca, issued.key.read_bytes() if issued else None, issued.cert.read_bytes() if issued else None
    )
    async with grpc.aio.secure_channel(running.state.scor_address, credentials) as channel:
        yield scor_pb2_grpc.ScorStoreServiceStub(channel)


def service(running: RunningStack, name: str) -> dev_ca.Issued:
    directory = Path(running.state.certs_dir)
    return dev_ca.Issued(directory / f"{name}.crt", directory / f"{name}.key")


def metadata(world: str, document_id: str, **fields: str) -> scor_pb2.DocumentMetadata:
    values = {
        "world": world,
        "document_id": document_id,
        "fse_id": f"fse-of-{document_id}",
        "ps_id": "ps-1",
        "insured_organism": "01-331",
        "receiving_organism": "01-331",
        "kind": "prescription",
        "received_on": "2026-03-02",
        **fields,
    }
    return scor_pb2.DocumentMetadata(**values)


async def put(
    stub: scor_pb2_grpc.ScorStoreServiceStub, meta: scor_pb2.DocumentMetadata, content: bytes
) -> scor_pb2.PutDocumentResponse:
    async def messages() -> AsyncIterator[scor_pb2.PutDocumentRequest]:
        yield scor_pb2.PutDocumentRequest(metadata=meta)
        for start in range(0, len(content), CHUNK_BYTES):
            yield scor_pb2.PutDocumentRequest(chunk=content[start : start + CHUNK_BYTES])

    response: scor_pb2.PutDocumentResponse = await stub.PutDocument(messages(), timeout=30)
    return response


async def get(stub: scor_pb2_grpc.ScorStoreServiceStub, world: str, document_id: str) -> bytes:
    chunks = []
    async for message in stub.GetDocument(
        scor_pb2.GetDocumentRequest(world=world, document_id=document_id), timeout=30
    ):
        if message.HasField("chunk"):
            chunks.append(message.chunk)
    return b"".join(chunks)


async def audit(running: RunningStack, world: str, document_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(running.state.database_url)
    try:
        return list(
            await conn.fetch(
                "SELECT action, habilitation, granted, reason FROM scor.audit"
                " WHERE world = $1 AND document_id = $2 ORDER BY id",
                world,
                document_id,
            )
        )
    finally:
        await conn.close()


async def test_real_pdfs_put_and_get_bit_exact_over_mtls(running: RunningStack) -> None:
    world = f"scor-{uuid.uuid4().hex[:8]}"
    content = pdf(300, pages=4) + b"%trailing bytes kept as is\n"  # a 'real' multi-page scan, 100+ KB
    big = b"".join(pdf(200, pages=3) for _ in range(20))  # several chunks
    async with (
        reading(running, world, DOCUMENT_STORED) as seen,
        scor(running, service(running, "ingest")) as ingest,
    ):
        stored = await put(ingest, metadata(world, "pj-1"), content)
        again = await put(ingest, metadata(world, "pj-1"), content)
        await put(ingest, metadata(world, "pj-big"), big)
        await close_day(running, world, dt.date(2026, 3, 2))
        await seen.wait_day("2026-03-02", [DOCUMENT_STORED], 30)
    assert stored.document.exploitable and stored.document.content_type == "application/pdf"
    assert stored.document.size_bytes == len(content) and not stored.already_stored
    assert again.already_stored
    async with scor(running, service(running, "pointage")) as pointage:
        assert await get(pointage, world, "pj-1") == content
        assert await get(pointage, world, "pj-big") == big
        listed = await pointage.ListDocuments(
            scor_pb2.ListDocumentsRequest(world=world, fse_id="fse-of-pj-1")
        )
    assert [d.metadata.document_id for d in listed.documents] == ["pj-1"]
    events = seen.topic(DOCUMENT_STORED).messages
    assert {e.document.metadata.document_id for e in events} == {"pj-1", "pj-big"}  # type: ignore[attr-defined]
    assert all(e.ByteSize() < 2000 for e in events)  # metadata only: the bytes never ride on Kafka


async def test_formats_and_size_are_checked(running: RunningStack) -> None:
    world = f"scor-{uuid.uuid4().hex[:8]}"
    async with scor(running, service(running, "ingest")) as ingest:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await put(ingest, metadata(world, "gif"), b"GIF89a" + bytes(100))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "format not accepted" in (caught.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await put(ingest, metadata(world, "bad", kind="selfie", received_on="2026-02-30"), pdf())
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "metadata.kind" in (caught.value.details() or "") and "metadata.received_on" in (
            caught.value.details() or ""
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await put(ingest, metadata(world, "huge"), b"%PDF-" + bytes(11 * 1024 * 1024))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "cap" in (caught.value.details() or "")


async def test_no_certificate_or_an_expired_one_is_refused_at_the_handshake(running: RunningStack) -> None:
    expired = certificate(
        running,
        "expired-technician",
        role="technician",
        organism="01-331",
        not_after=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),  # type: ignore[arg-type]
    )
    for issued in (None, expired):
        async with scor(running, issued) as stub:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.StatDocument(scor_pb2.StatDocumentRequest(world="w", document_id="x"), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # TLS handshake failed


async def test_habilitations_partition_access_and_every_access_is_audited(running: RunningStack) -> None:
    world = f"scor-{uuid.uuid4().hex[:8]}"
    async with scor(running, service(running, "ingest")) as ingest:
        await put(ingest, metadata(world, "pj-msa", insured_organism="02-331"), pdf())
    gironde = certificate(running, "technician-01-331", role="technician", organism="01-331")
    msa = certificate(running, "technician-02-331", role="technician", organism="02-331")
    owner = certificate(running, "professional-ps-1", role="professional", ps_id="ps-1")
    stranger = certificate(running, "professional-ps-2", role="professional", ps_id="ps-2")
    for issued in (gironde, stranger):
        async with scor(running, issued) as stub:
            for document in ("pj-msa", "does-not-exist"):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await get(stub, world, document)
                # Same answer whether the document exists or not.
                assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert caught.value.details() == "not allowed to access this document"
    for issued in (msa, owner):
        async with scor(running, issued) as stub:
            assert (await get(stub, world, "pj-msa")).startswith(b"%PDF-")
    async with scor(running, service(running, "pointage")) as pointage:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(pointage, world, "does-not-exist")
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # a service may know
    async with scor(running, gironde) as stub:
        listed = await stub.ListDocuments(scor_pb2.ListDocumentsRequest(world=world, ps_id="ps-1"))
    assert list(listed.documents) == []  # the MSA insured's document is not even listed
    trail = [(r["action"], r["habilitation"], r["granted"]) for r in await audit(running, world, "pj-msa")]
    assert trail == [
        ("put", "service:ingest", True),
        ("get", "technician:01-331", False),
        ("get", "professional:ps-2", False),
        ("get", "technician:02-331", True),
        ("get", "professional:ps-1", True),
    ]
    conn = await asyncpg.connect(running.state.database_url)
    try:
        for statement in ("UPDATE scor.audit SET granted = true", "DELETE FROM scor.audit"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_durability_through_the_service_and_fsck_repair(running: RunningStack) -> None:
    world = f"scor-{uuid.uuid4().hex[:8]}"
    content = pdf(200, pages=2)
    async with scor(running, service(running, "ingest")) as ingest:
        for document in ("pj-a", "pj-b"):
            await put(ingest, metadata(world, document), content)
    supports = [Path(s) for s in running.state.scor_supports.split(",")]
    from scor_store.adapters.vault import Support

    def piece(support: int, document: str, index: int) -> Path:
        return Support(supports[support], fsync=False).piece_path(world, document, index)

    piece(0, "pj-a", 1).unlink()  # one piece gone on one support
    path = piece(1, "pj-a", 4)
    path.write_bytes(b"\x00" + path.read_bytes()[1:])  # one byte changed on the other
    for support in (0, 1):  # two pieces gone on both supports: lost
        piece(support, "pj-b", 0).unlink()
        piece(support, "pj-b", 6).unlink()
    async with scor(running, service(running, "pointage")) as pointage:
        assert await get(pointage, world, "pj-a") == content
        verified = await pointage.VerifyDocument(
            scor_pb2.VerifyDocumentRequest(world=world, document_id="pj-a")
        )
        assert (verified.health, verified.good_distinct_pieces, verified.seal_ok) == ("degraded", 7, True)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(pointage, world, "pj-b")
        assert caught.value.code() == grpc.StatusCode.DATA_LOSS
    losses = [
        line
        for line in running.metrics("scor-store").splitlines()
        if line.startswith("fseflow_scor_data_loss")
    ]
    assert losses and float(losses[0].split()[-1]) >= 1  # counted

    def fsck(*flags: str) -> tuple[int, dict[str, Any]]:
        env = {**os.environ, **running.state.env()}
        done = subprocess.run(
            [sys.executable, "-m", "fseflow_tools.cli.main", "scor", "fsck", "--json", *flags],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        report = json.loads(done.stdout)
        return done.returncode, {d["document"]: d for d in report["documents"] if d["world"] == world}

    code, before = await asyncio.to_thread(fsck)
    assert code == 3  # something is lost
    assert before["pj-a"]["health"] == "degraded" and before["pj-a"]["broken_pieces"] == {
        "0:1": "missing",
        "1:4": "corrupt",
    }
    assert before["pj-b"]["health"] == "lost"
    _, repaired = await asyncio.to_thread(fsck, "--repair")
    assert repaired["pj-a"]["health"] == "ok" and repaired["pj-a"]["repaired_from"] == "degraded"
    shutil.rmtree(supports[0] / piece(0, "pj-a", 0).parent.relative_to(supports[0]).parts[0])
    async with scor(running, service(running, "pointage")) as pointage:
        assert await get(pointage, world, "pj-a") == content  # the repaired support alone suffices


async def test_retention_purges_after_33_months_on_the_clock(running: RunningStack) -> None:
    world = await new_world(running, start=dt.date(2023, 1, 2))
    async with scor(running, service(running, "ingest")) as ingest:
        await put(ingest, metadata(world, "pj-old", received_on="2023-01-02"), pdf())
        await put(ingest, metadata(world, "pj-young", received_on="2023-01-05"), pdf())
    await close_day(running, world, dt.date(2025, 10, 3))  # 2 Jan 2023 + 33 months, next business day
    conn = await asyncpg.connect(running.state.database_url)
    try:
        for _ in range(100):
            purged = await conn.fetch(
                "SELECT document_id, purged_on FROM scor.documents"
                " WHERE world = $1 AND purged_on IS NOT NULL",
                world,
            )
            if purged:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert [(r["document_id"], r["purged_on"]) for r in purged] == [("pj-old", dt.date(2025, 10, 3))]
    assert [(r["action"], r["granted"]) for r in await audit(running, world, "pj-old")][-1] == ("purge", True)
    async with scor(running, service(running, "pointage")) as pointage:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(pointage, world, "pj-old")
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND and "purged" in (caught.value.details() or "")
        assert (await get(pointage, world, "pj-young")).startswith(b"%PDF-")
