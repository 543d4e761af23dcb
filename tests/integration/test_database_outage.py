"""The database goes away: the stage whose batch fails says so (not ready, a failure counter,
its last progress stops), nothing goes to the dead-letter topic, and once PostgreSQL is back the
batch goes through with nothing lost."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from fseflow.codec import encode, event_id
from fseflow.cti.v1.classification_pb2 import FseClassified
from fseflow.stack import _pg_bin_dir, readiness
from fseflow.topics import FSE_CLASSIFIED, FSE_RECEIVED
from tests.conftest import RunningStack
from tests.integration.helpers import NIR, START, close_day, new_world, reading
from tests.integration.test_national_check import publish, received

pytestmark = pytest.mark.integration


def _pg_ctl(running: RunningStack, *args: str) -> None:
    state = running.state
    assert state.postgres_data is not None
    subprocess.run(
        [str(_pg_bin_dir(state.postgres_user) / "pg_ctl"), "-D", state.postgres_data, *args],
        check=True,
        capture_output=True,
        user=state.postgres_user,
    )


def _server_options(running: RunningStack) -> str:
    """The options the server runs with (postmaster.opts), to start it again the same way."""
    assert running.state.postgres_data is not None
    words = shlex.split((Path(running.state.postgres_data) / "postmaster.opts").read_text())
    # Without the binary and -D, which pg_ctl gives itself.
    options = words[1:]
    at = options.index("-D")
    return shlex.join(options[:at] + options[at + 2 :])


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
    options = _server_options(running)
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
        await asyncio.to_thread(_pg_ctl, running, "stop", "-m", "fast", "-w")
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
            log = str(Path(running.state.postgres_data or "") / "postgres.log")
            await asyncio.to_thread(_pg_ctl, running, "start", "-w", "-t", "60", "-l", log, "-o", options)
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
