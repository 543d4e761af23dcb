"""The ops endpoint: /readyz and the fseflow_ready gauge say the same, scrape after scrape, so that
an alert can see a service that is alive but waiting (deploy/k8s PrometheusRule)."""

from __future__ import annotations

import re
import socket

import aiohttp

from fseflow.ops_http import OpsServer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready_sample(metrics: str, service: str) -> float:
    found = re.search(rf'^fseflow_ready{{service="{service}"}} (\S+)$', metrics, re.M)
    assert found, f"no fseflow_ready sample for {service}"
    return float(found.group(1))


async def test_the_ready_gauge_follows_the_readiness_checks() -> None:
    waiting: list[str] = ["group rebalancing since 61s"]
    ops = OpsServer("ops-test", "127.0.0.1", _free_port())
    ops.add_readiness("consumer", lambda: waiting[0] if waiting else None)
    await ops.start()
    base = f"http://127.0.0.1:{ops.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as response:
                assert _ready_sample(await response.text(), "ops-test") == 0
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 503
                assert (await response.json())["waiting_for"] == {"consumer": "group rebalancing since 61s"}
            waiting.clear()
            async with http.get(f"{base}/metrics") as response:
                assert _ready_sample(await response.text(), "ops-test") == 1
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
    finally:
        await ops.stop()
