"""The chaos suite's short version: one round of a generated scenario (lots for ten business
days, then months of relances) during which two random processes are SIGKILLed and restarted;
the round's results, payments, notices and recoveries equal the undisturbed run's.
`make chaos` runs ten rounds of a 20,000-FSE scenario."""

from __future__ import annotations

import pytest

from fseflow_tools.chaos import Chaos, scenario
from tests.conftest import RunningStack

pytestmark = pytest.mark.e2e


async def test_a_round_of_kills_changes_nothing(running: RunningStack) -> None:
    if not running.state.embedded_kafka:
        pytest.skip("kills and restarts the processes of the embedded stack")
    document = scenario(fse=2000, business_days=10, seed=7)
    chaos = Chaos(running.stack, running.state, document, seed=7, kills_per_round=2)
    expected = await chaos.undisturbed()
    assert expected["totals"]["recovered"] > 0 and expected["payments"]  # relances ran to recoveries
    try:
        result = await chaos.round(1, expected)
    finally:
        running.state = running.stack.load() or running.state  # new pids for the tests after
    assert len(result.kills) == 2, result
    assert result.identical, result.differences
