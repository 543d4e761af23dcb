"""The replay's collector: a day still open after a while is looked for again from the
beginning, and reading everything again changes nothing it observed."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from fseflow.topics import FSE_CLASSIFIED
from tests.conftest import RunningStack
from tests.integration.helpers import close_day, ingest, lot, new_world, reading, sheet

pytestmark = pytest.mark.integration


async def test_a_day_waited_for_through_rereads_and_rereading_changes_nothing(running: RunningStack) -> None:
    if running.endpoints.read_from != "beginning":
        pytest.skip("re-reading only applies to collectors that read from the beginning")
    world = await new_world(running)
    day = date(2026, 3, 2)
    async with reading(running, world, FSE_CLASSIFIED) as collector:
        async with ingest(running) as stub:
            await stub.SubmitLot(lot(world, "lot-1", sheet("fse-1"), sheet("fse-2")))
        # The day is closed only after the wait started and re-read a few times.
        waiting = asyncio.create_task(
            collector.wait_day(day.isoformat(), [FSE_CLASSIFIED], 60, reread_after_s=0.5)
        )
        for _ in range(300):
            if collector.rereads >= 2:
                break
            await asyncio.sleep(0.1)
        assert collector.rereads >= 2 and not waiting.done()
        await close_day(running, world, day)
        await waiting

        seen = [m.SerializeToString() for m in collector.topic(FSE_CLASSIFIED).messages]
        assert len(seen) == 2
        read = collector.records_read
        await collector.reread()
        # The new consumer has read at least as far as the old one had.
        await collector.wait_until(lambda: collector.records_read >= read, 30)
        assert [m.SerializeToString() for m in collector.topic(FSE_CLASSIFIED).messages] == seen
        assert collector.day_complete(day.isoformat(), [FSE_CLASSIFIED])
