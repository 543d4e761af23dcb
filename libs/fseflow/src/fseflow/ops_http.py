"""The operations endpoint of a service: /metrics (Prometheus), /healthz, /readyz."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fseflow.telemetry.metrics import READY

# A readiness check returns None when ready, else why not.
ReadinessCheck = Callable[[], str | None]


class OpsServer:
    def __init__(self, service: str, host: str, port: int) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.app = web.Application()
        self._checks: dict[str, ReadinessCheck] = {}
        self._runner: web.AppRunner | None = None
        self.app.router.add_get("/metrics", self._metrics)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)

    def add_readiness(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    def not_ready(self) -> dict[str, str]:
        """Why the service is not ready, by check (empty when it is); kept in fseflow_ready too,
        so that an alert sees a service that lives but waits (a rebalance, a database away)."""
        reasons = {}
        for name, check in self._checks.items():
            reason = check()
            if reason is not None:
                reasons[name] = reason
        READY.labels(self.service).set(0 if reasons else 1)
        return reasons

    async def _metrics(self, _request: web.Request) -> web.Response:
        self.not_ready()
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"service": self.service, "status": "alive"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        reasons = self.not_ready()
        status = 200 if not reasons else 503
        return web.json_response(
            {"service": self.service, "ready": not reasons, "waiting_for": reasons}, status=status
        )

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
