"""Every service is ready, follows the business clock and says so in its metrics."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from fseflow_tools.stack import readiness
from tests.conftest import RunningStack
from tests.integration.helpers import close_day, new_world

pytestmark = pytest.mark.integration


async def test_every_service_is_ready_and_learns_each_closed_day(running: RunningStack) -> None:
    world = await new_world(running)
    for name, process in running.state.services.items():
        assert readiness(process.metrics_port) is True, name
    day = date(2026, 3, 4)
    await close_day(running, world, day)
    expected = f'fseflow_last_closed_business_day{{world="{world}"}} {float(day.toordinal())}'
    for name in running.state.services:
        for _ in range(100):
            if expected in running.metrics(name):
                break
            await asyncio.sleep(0.1)
        assert expected in running.metrics(name), name
