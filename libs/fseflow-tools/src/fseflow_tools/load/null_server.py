"""A LotIngestService that does nothing: the generator's own ceiling, and the open-loop tests.

It answers every SubmitLot with a positive ARL and every SubmitDocument once its stream is read,
at once; or holds every call while its gate is closed (a stalled endpoint); or serves one call at
a time taking ``service_s`` each (a saturated one).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from typing import Any

import grpc

from fseflow.contracts.cti.v1.ingest_pb2 import (
    Arl,
    SubmitDocumentRequest,
    SubmitDocumentResponse,
    SubmitLotRequest,
    SubmitLotResponse,
)
from fseflow.contracts.cti.v1.ingest_pb2_grpc import (
    LotIngestServiceServicer,
    add_LotIngestServiceServicer_to_server,
)


class NullIngest(LotIngestServiceServicer):  # type: ignore[misc]
    def __init__(self, service_s: float = 0.0) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.service_s = service_s
        self._serial = asyncio.Lock()
        self.lots = 0
        self.documents = 0

    async def _hold(self) -> None:
        await self.gate.wait()
        if self.service_s > 0:
            async with self._serial:
                await asyncio.sleep(self.service_s)

    async def SubmitLot(self, request: SubmitLotRequest, context: Any) -> SubmitLotResponse:
        self.lots += 1
        await self._hold()
        lot = request.lot
        return SubmitLotResponse(
            arl=Arl(
                world=request.world,
                lot_id=lot.lot_id,
                ps_id=lot.ps_id,
                positive=True,
                issued_on=request.received_on,
                fse_accepted=len(lot.fse),
            )
        )

    async def SubmitDocument(
        self, request_iterator: AsyncIterator[SubmitDocumentRequest], context: Any
    ) -> SubmitDocumentResponse:
        document_id = ""
        async for part in request_iterator:
            if part.HasField("metadata"):
                document_id = part.metadata.document_id
        self.documents += 1
        await self._hold()
        return SubmitDocumentResponse(document_id=document_id, exploitable=True)


async def serve(port: int = 0, service_s: float = 0.0) -> tuple[grpc.aio.Server, NullIngest, int]:
    """A started server on 127.0.0.1 (``port`` 0: one the system chooses) and its servicer."""
    server = grpc.aio.server()
    servicer = NullIngest(service_s)
    add_LotIngestServiceServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server, servicer, bound


def _serve_forever(port: int, ports: Any) -> None:
    async def main() -> None:
        server, _servicer, bound = await serve(port)
        ports.put(bound)
        await server.wait_for_termination()

    asyncio.run(main())


def start_processes(count: int = 1) -> tuple[list[multiprocessing.process.BaseProcess], int]:
    """Null servers in ``count`` processes of their own, on one port (gRPC sets SO_REUSEPORT on
    Linux, so the kernel spreads the workers' connections over them); the caller terminates
    them. The first picks a free port, the others bind the same one."""
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    processes: list[multiprocessing.process.BaseProcess] = []
    port = 0
    for number in range(max(1, count)):
        process = context.Process(
            target=_serve_forever, args=(port, ports), name=f"fseflow-load-null-{number}", daemon=True
        )
        process.start()
        processes.append(process)
        bound = int(ports.get(timeout=60))
        if bound == 0:
            raise RuntimeError(f"null server {number} could not bind port {port}")
        port = bound
    return processes, port
