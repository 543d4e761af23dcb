"""``fseflow scor bench``: Scor put and get against plain files, on the same disk, in one run.

Three ways to write and read the same 2,000 documents of 200 KB:

1. plain files: one file per document, written and fsynced, then read back: the disk's figure;
2. the storage engine alone (seal, 6+1 erasure coding, both supports, fsync; on read every
   piece's digest and the seal checked): what the store's own durability costs;
3. the service: PutDocument / GetDocument over gRPC with mutual TLS, metadata in PostgreSQL,
   audit trail and a DocumentStored event per put: what a client sees.

Reads are cold (page cache dropped before each read phase) when the process may drop it (root),
warm otherwise; the figures say which.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from PIL import Image
from rich.console import Console
from rich.table import Table

from fseflow.contracts.scor.v1 import scor_pb2, scor_pb2_grpc
from fseflow.vocabulary.documents import CHUNK_BYTES
from fseflow_tools.endpoints import Endpoints
from scor_store.adapters.vault import Support, Vault

TARGET_PUT_RATIO = 0.25
TARGET_GET_RATIO = 0.40


@dataclass(frozen=True)
class Rate:
    docs_per_s: float
    mb_per_s: float

    def as_dict(self) -> dict[str, float]:
        return {"docs_per_s": round(self.docs_per_s, 1), "mb_per_s": round(self.mb_per_s, 1)}


def _rate(count: int, size: int, seconds: float) -> Rate:
    return Rate(count / seconds, count * size / seconds / 1e6)


def sample_pdf(size: int, seed: int = 1) -> bytes:
    """A real, openable PDF of about ``size`` bytes: a 300 dpi scan of noise, JPEG-compressed."""
    rng = random.Random(seed)  # noqa: S311 - test data
    side = 400
    while True:
        noise = bytes(rng.getrandbits(8) for _ in range(side * side))
        buffer = io.BytesIO()
        Image.frombytes("L", (side, side), noise).save(buffer, "PDF", resolution=300.0)
        if len(buffer.getvalue()) >= size * 0.9:
            return buffer.getvalue()
        side += 100


def documents(count: int, size: int) -> list[bytes]:
    """``count`` distinct documents: one scan with a distinct trailing comment each."""
    base = sample_pdf(size)
    return [base + f"\n% fseflow bench document {i}\n".encode() for i in range(count)]


def drop_caches() -> bool:
    """Empty the page cache (root only) so reads come from the disk; False when not allowed."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def plain_files(directory: Path, docs: list[bytes], cold: bool) -> tuple[Rate, Rate, bool]:
    directory.mkdir(parents=True, exist_ok=True)
    size = len(docs[0])
    started = time.perf_counter()
    for i, content in enumerate(docs):
        fd = os.open(directory / f"{i}.pdf", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
    write = _rate(len(docs), size, time.perf_counter() - started)
    dropped = drop_caches() if cold else False
    started = time.perf_counter()
    for i in range(len(docs)):
        (directory / f"{i}.pdf").read_bytes()
    read = _rate(len(docs), size, time.perf_counter() - started)
    return write, read, dropped


def engine(directory: Path, docs: list[bytes], cold: bool) -> tuple[Rate, Rate]:
    vault = Vault(
        [Support(directory / "a", fsync=True), Support(directory / "b", fsync=True)], os.urandom(32)
    )
    size = len(docs[0])
    try:
        started = time.perf_counter()
        layouts = [vault.store("bench", f"d{i}", content) for i, content in enumerate(docs)]
        put = _rate(len(docs), size, time.perf_counter() - started)
        if cold:
            drop_caches()
        started = time.perf_counter()
        for i, layout in enumerate(layouts):
            if vault.load("bench", f"d{i}", layout) != docs[i]:
                raise AssertionError("the engine did not give the bytes back")
        get = _rate(len(docs), size, time.perf_counter() - started)
    finally:
        vault.close()
    return put, get


async def service(
    system: Endpoints, certs: Path, docs: list[bytes], concurrency: int, cold: bool
) -> tuple[Rate, Rate]:
    world = f"bench-scor-{uuid.uuid4().hex[:8]}"
    ca = (certs / "ca.crt").read_bytes()
    size = len(docs[0])
    options = [
        ("grpc.max_send_message_length", 2 * CHUNK_BYTES),
        ("grpc.max_receive_message_length", 2 * CHUNK_BYTES),
    ]

    def channel(name: str) -> grpc.aio.Channel:
        credentials = grpc.ssl_channel_credentials(
            ca, (certs / f"{name}.key").read_bytes(), (certs / f"{name}.crt").read_bytes()
        )
        address = os.environ.get("SCOR_ADDR") or system_scor_address(system)
        return grpc.aio.secure_channel(address, credentials, options=options)

    async def run_all(action: Callable[[int], Any]) -> float:
        limit = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with limit:
                await action(i)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(len(docs))))
        return time.perf_counter() - started

    # Several connections, as several clients would open: the kernel spreads them over the
    # scor-store processes listening on the port (SO_REUSEPORT), when there are several.
    ingest_channels = [channel("ingest") for _ in range(4)]
    putters = [scor_pb2_grpc.ScorStoreServiceStub(c) for c in ingest_channels]
    try:

        async def put(i: int) -> None:
            async def messages() -> AsyncIterator[scor_pb2.PutDocumentRequest]:
                yield scor_pb2.PutDocumentRequest(
                    metadata=scor_pb2.DocumentMetadata(
                        world=world,
                        document_id=f"d{i}",
                        fse_id=f"fse-{i}",
                        ps_id="bench-ps",
                        insured_organism="01-331",
                        receiving_organism="01-331",
                        kind="prescription",
                        received_on="2026-03-02",
                    )
                )
                content = docs[i]
                for start in range(0, len(content), CHUNK_BYTES):
                    yield scor_pb2.PutDocumentRequest(chunk=content[start : start + CHUNK_BYTES])

            await putters[i % len(putters)].PutDocument(messages(), timeout=120)

        put_seconds = await run_all(put)
    finally:
        for c in ingest_channels:
            await c.close()
    if cold:
        drop_caches()
    pointage_channels = [channel("pointage") for _ in range(4)]
    getters = [scor_pb2_grpc.ScorStoreServiceStub(c) for c in pointage_channels]
    try:

        async def get(i: int) -> None:
            received = 0
            request = scor_pb2.GetDocumentRequest(world=world, document_id=f"d{i}")
            async for message in getters[i % len(getters)].GetDocument(request):
                received += len(message.chunk)
            if received != len(docs[i]):
                raise AssertionError(f"d{i}: {received} bytes back, {len(docs[i])} sent")

        get_seconds = await run_all(get)
    finally:
        for c in pointage_channels:
            await c.close()
    return _rate(len(docs), size, put_seconds), _rate(len(docs), size, get_seconds)


def system_scor_address(system: Endpoints) -> str:
    from fseflow_tools.stack import Stack

    state = Stack().running()
    if state is None or not state.scor_address:
        raise RuntimeError("set SCOR_ADDR (and FSEFLOW_CERTS_DIR) or start the embedded stack")
    return state.scor_address


async def run(
    system: Endpoints, certs: Path, scratch: Path, count: int, size: int, concurrency: int
) -> dict[str, Any]:
    console = Console(stderr=True)
    console.print(f"making {count:,} documents of {size // 1024} KB (real PDFs)...")
    docs = documents(count, size)
    size = len(docs[0])
    work = Path(tempfile.mkdtemp(prefix="scor-bench-", dir=scratch))
    try:
        console.print("plain files: write + fsync, then read...")
        plain_write, plain_read, cold = plain_files(work / "plain", docs, cold=True)
        console.print("storage engine: seal + 6+1 pieces on two supports + fsync; read with every check...")
        engine_put, engine_get = engine(work / "engine", docs, cold)
        console.print(f"service: PutDocument / GetDocument over gRPC with mTLS, {concurrency} in flight...")
        service_put, service_get = await service(system, certs, docs, concurrency, cold)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures: dict[str, Any] = {
        "documents": count,
        "document_bytes": size,
        "cold_reads": cold,
        "plain": {"write": plain_write.as_dict(), "read": plain_read.as_dict()},
        "engine": {"put": engine_put.as_dict(), "get": engine_get.as_dict()},
        "service": {"put": service_put.as_dict(), "get": service_get.as_dict()},
        "ratios": {
            "engine_put": round(engine_put.mb_per_s / plain_write.mb_per_s, 3),
            "engine_get": round(engine_get.mb_per_s / plain_read.mb_per_s, 3),
            "service_put": round(service_put.mb_per_s / plain_write.mb_per_s, 3),
            "service_get": round(service_get.mb_per_s / plain_read.mb_per_s, 3),
        },
        "targets": {"put": TARGET_PUT_RATIO, "get": TARGET_GET_RATIO},
    }
    table = Table(
        title=f"Scor bench: {count:,} x {size / 1024:.0f} KB, reads {'cold' if cold else 'warm (page cache)'}"
    )
    for column in (
        "path",
        "put / write MB/s",
        "docs/s",
        "get / read MB/s",
        "docs/s",
        "put ratio",
        "get ratio",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        "plain files",
        f"{plain_write.mb_per_s:.0f}",
        f"{plain_write.docs_per_s:.0f}",
        f"{plain_read.mb_per_s:.0f}",
        f"{plain_read.docs_per_s:.0f}",
        "1",
        "1",
    )
    for name, put, get in (
        ("storage engine", engine_put, engine_get),
        ("service (gRPC, mTLS)", service_put, service_get),
    ):
        table.add_row(
            name,
            f"{put.mb_per_s:.0f}",
            f"{put.docs_per_s:.0f}",
            f"{get.mb_per_s:.0f}",
            f"{get.docs_per_s:.0f}",
            f"{put.mb_per_s / plain_write.mb_per_s:.2f}",
            f"{get.mb_per_s / plain_read.mb_per_s:.2f}",
        )
    Console().print(table)
    Console().print(
        f"targets: put ≥ {TARGET_PUT_RATIO:.0%} and get ≥ {TARGET_GET_RATIO:.0%} of the plain-file figures"
    )
    return figures
