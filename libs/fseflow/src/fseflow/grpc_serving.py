"""A gRPC server as a service component (ingest's front door, scor-store): the standard health
service, readiness once serving, and a graceful stop that lets calls in flight finish."""

from __future__ import annotations

import asyncio
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)


class GrpcServing:
    def __init__(self, server: grpc.aio.Server, service_name: str, label: str) -> None:
        """``server`` has its servicers; the subclass adds its port and sets ``address``."""
        self._server = server
        self._service_name = service_name
        self._label = label
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        self.address = ""
        self._stopped = asyncio.Event()
        self.started = False

    def readiness(self) -> str | None:
        return None if self.started else "grpc: not serving yet"

    async def run(self) -> None:
        await self._server.start()
        await self._health.set(self._service_name, health_pb2.HealthCheckResponse.SERVING)
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        self.started = True
        log.info("%s listening on %s", self._label, self.address)
        await self._stopped.wait()
        await self._health.enter_graceful_shutdown()
        # Calls in flight (a lot's FSE, a document being stored) finish before the process exits.
        await self._server.stop(grace=10)

    def request_stop(self) -> None:
        self._stopped.set()
