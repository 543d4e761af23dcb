"""Process lifecycle shared by the services: logs, traces, /metrics, signals, graceful stop.

A service registers long-running tasks (a stream processor, the gRPC server, a clock follower)
with a stop callback and a readiness check. SIGTERM or SIGINT asks every task to stop: stream
processors finish the batch in flight and commit before the process exits. A task that dies
takes the process down with a non-zero status, for the supervisor to restart it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from fseflow.ops_http import OpsServer, ReadinessCheck
from fseflow.settings import OpsSettings
from fseflow.telemetry.logs import setup_logging
from fseflow.telemetry.tracing import setup_tracing

log = logging.getLogger(__name__)


@dataclass
class _Task:
    name: str
    run: Callable[[], Coroutine[Any, Any, None]]
    stop: Callable[[], object]


class ServiceRuntime:
    def __init__(self, service: str, settings: OpsSettings) -> None:
        self.service = service
        self.settings = settings
        setup_logging(service, settings.log_level, settings.log_format)
        setup_tracing(service, os.environ)
        self.ops = OpsServer(service, settings.metrics_host, settings.metrics_port)
        self._tasks: list[_Task] = []
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self._stop = asyncio.Event()

    def add_task(
        self,
        name: str,
        run: Callable[[], Coroutine[Any, Any, None]],
        stop: Callable[[], object],
        readiness: ReadinessCheck | None = None,
    ) -> None:
        self._tasks.append(_Task(name, run, stop))
        if readiness is not None:
            self.ops.add_readiness(name, readiness)

    def add_cleanup(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        """Run at exit, after every task stopped, in reverse order of registration."""
        self._cleanups.append(cleanup)

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        await self.ops.start()
        log.info("%s started; ops endpoint on :%d", self.service, self.settings.metrics_port)
        running: dict[asyncio.Task[None], _Task] = {
            asyncio.create_task(t.run(), name=t.name): t for t in self._tasks
        }
        stop_waiter = asyncio.create_task(self._stop.wait(), name="stop-signal")
        exit_code = 0
        done, _ = await asyncio.wait({*running, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is stop_waiter:
                log.info("%s: stop requested; finishing work in flight", self.service)
                continue
            error = task.exception()
            if error is not None:
                log.error("%s: task %s failed: %r", self.service, task.get_name(), error, exc_info=error)
                exit_code = 1
            else:
                log.error("%s: task %s ended unexpectedly", self.service, task.get_name())
                exit_code = 1
        for t in self._tasks:
            t.stop()
        results = await asyncio.gather(*running, return_exceptions=True)
        for task, result in zip(running, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("%s: task %s failed while stopping: %r", self.service, task.get_name(), result)
                exit_code = 1
        stop_waiter.cancel()
        for cleanup in reversed(self._cleanups):
            try:
                await cleanup()
            except Exception:
                log.exception("%s: cleanup failed", self.service)
                exit_code = 1
        await self.ops.stop()
        log.info("%s stopped (status %d)", self.service, exit_code)
        return exit_code


S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_type: type[S]) -> S:
    """Read the environment; on a bad or missing variable, say which one and exit 2."""
    try:
        return settings_type()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            sys.stderr.write(f"configuration error: {name}: {error['msg']}\n")
        raise SystemExit(2) from None


SettingsT = TypeVar("SettingsT", bound=OpsSettings)


def serve(
    service: str,
    settings_type: type[SettingsT],
    build: Callable[[SettingsT, ServiceRuntime], Awaitable[None]],
) -> None:
    """A service's entry point: read its settings, build it, serve until SIGTERM, exit."""

    async def _serve() -> int:
        settings = load_settings(settings_type)
        runtime = ServiceRuntime(service, settings)
        await build(settings, runtime)
        return await runtime.serve()

    raise SystemExit(asyncio.run(_serve()))
