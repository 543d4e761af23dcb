"""The database goes away: the stage whose batch fails says so (not ready, a failure counter,
its last progress stops), nothing goes to the dead-letter topic, and once PostgreSQL is back the
batch goes through with nothing lost."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fseflow.codec import encode, event_id
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.topics import FSE_CLASSIFIED, FSE_RECEIVED
from fseflow_tools import stack_postgres
from fseflow_tools.stack import readiness
from tests.conftest import RunningStack
from tests.integration.helpers import NIR, START, close_day, new_world, reading
from tests.integration.national_check.test_national_check import publish, received

pytestmark = pytest.mark.integration


def _database(running: RunningStack) -> tuple[Path, str | None, int]:
    state = running.state
    assert state.postgres_data is not None
    port = urlsplit(state.database_url).port
    assert port is not None
    return Path(state.postgres_data), state.postgres_user, port


def _failures(running: RunningStack, names: list[str]) -> float:
    total = 0.0
    for name in names:
        for match in re.finditer(
            r"^fseflow_batch_failures_total\{[^}]*\} (\S+)$", running.metrics(name), re.M
        ):
            total += float(match.group(1))
    return total


async def test_a_database_outage_makes_the_stage_not_ready_then_nothing_is_lost(
    running: RunningStack,
) -> None:
    if not running.state.embedded_postgres:
        pytest.skip("needs the embedded PostgreSQL, which this test stops and starts")
    world = await new_world(running)
    checkers = running.instances("national-check")
    failures_before = _failures(running, checkers)
    data, user, port = _database(running)
    topic = running.kafka().names(FSE_RECEIVED)
    records = [
        encode(
            received(world, f"outage-{i}", acts=1),
            topic=topic,
            event_id=event_id("fse-received", world, "lot-x", f"outage-{i}"),
            source="ingest",
            key=f"{world}/{NIR}".encode(),
        )
        for i in range(3)
    ]
    async with reading(running, world, FSE_CLASSIFIED) as seen:
        await asyncio.to_thread(stack_postgres.stop, data, user)
        try:
            await publish(running, records)
            reasons: dict[str, object] = {}
            for _ in range(300):  # 30 s at most
                reasons = {n: readiness(running.state.services[n].metrics_port) for n in checkers}
                if any(isinstance(r, str) and "batch failing" in r for r in reasons.values()):
                    break
                await asyncio.sleep(0.1)
            assert any(isinstance(r, str) and "batch failing" in r for r in reasons.values()), reasons
            assert _failures(running, checkers) > failures_before
            assert not seen.topic(FSE_CLASSIFIED).messages  # nothing classified without the database
        finally:
            await asyncio.to_thread(stack_postgres.start, data, user, port)
        await close_day(running, world, START)
        await seen.wait_day("2026-03-02", [FSE_CLASSIFIED], 120)
    classified = {m.fse_id for m in seen.topic(FSE_CLASSIFIED).messages if isinstance(m, FseClassified)}
    assert classified == {f"outage-{i}" for i in range(3)}
    for name in checkers:
        for _ in range(300):
            if readiness(running.state.services[name].metrics_port) is True:
                break
            await asyncio.sleep(0.1)
        assert readiness(running.state.services[name].metrics_port) is True, name
