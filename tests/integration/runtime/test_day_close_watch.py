"""A day the clock closed that a stage cannot close says so: the stage is not ready, its metric
rises and a log line names the partitions whose DayMarks are missing; once they arrive the day
closes and the stage is ready again."""

from __future__ import annotations

import asyncio
import re

import pytest

from fseflow.topics import DOCUMENT_STORED
from fseflow_tools.stack import readiness
from tests.conftest import RunningStack
from tests.integration.helpers import START, close_day, new_world

pytestmark = pytest.mark.integration

LATE_AFTER_S = "2"


def _ready(running: RunningStack, name: str) -> bool | str:
    return readiness(running.state.services[name].metrics_port)


async def _until(predicate: object, what: str, within_s: float = 60) -> None:
    for _ in range(int(within_s * 10)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within_s:.0f}s: {what}")


async def test_a_day_held_up_upstream_is_reported_then_closes(running: RunningStack) -> None:
    poles = running.instances("pointage")
    documents = running.kafka().names(DOCUMENT_STORED)
    # Pôle replicas that report a late day after 2 s, and no document store: its DayMarks on
    # scor.document-stored will not come.
    await asyncio.to_thread(running.restart, poles, {"DAY_CLOSE_LATE_AFTER_S": LATE_AFTER_S})
    running.stop("scor-store")
    try:
        world = await new_world(running)
        await close_day(running, world, START)
        await _until(
            lambda: any(
                isinstance(_ready(running, n), str) and world in str(_ready(running, n)) for n in poles
            ),
            "a pôle replica not ready because of the late day",
        )
        reason = next(str(_ready(running, n)) for n in poles if world in str(_ready(running, n)))
        assert f"day {START}" in reason and f"{documents}[" in reason, reason
        metrics = "".join(running.metrics(n) for n in poles)
        assert re.search(r"^fseflow_day_close_late_seconds\{[^}]*\} [1-9]", metrics, re.M), metrics
        logs = "".join(running.log(n) for n in poles)
        assert re.search(
            rf"world {world}: the clock closed {START}.*DayMarks missing on: .*{documents}\[", logs
        )
    finally:
        running.start("scor-store")
    # The document store relays the closure it missed; the day closes; every replica is ready.
    await _until(lambda: all(_ready(running, n) is True for n in poles), "pôle replicas ready again", 90)
    await asyncio.to_thread(running.restart, poles)
