"""`fseflow load` against the embedded stack: 60 s at a low rate, with business days closed as
the run goes; every FSE acknowledged is classified, the report holds the windows."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from fseflow_tools.cli.load import write_outputs
from fseflow_tools.load import profiles
from fseflow_tools.load.lots import WorldShape
from fseflow_tools.load.run import LoadConfig, LoadRun
from tests.conftest import RunningStack

pytestmark = pytest.mark.e2e

RATE = 100.0
SECONDS = 60.0
COMPRESS = 2880.0  # a business day lasts 30 s: two close during the run


def test_a_minute_of_load_is_classified_and_reported(running: RunningStack, tmp_path: Path) -> None:
    config = LoadConfig(
        profiles.constant(RATE, SECONDS, COMPRESS),
        f"constant {RATE:g} FSE/s for {SECONDS:g}s",
        workers=1,
        shape=WorldShape(professionals=50, patients=2000),
        classify_wait_s=180.0,
        chain_messages=20_000,
    )
    targets = {
        name: f"http://127.0.0.1:{process.metrics_port}/metrics"
        for name, process in running.state.services.items()
    }
    outcome = asyncio.run(LoadRun(config, running.endpoints, metrics_targets=targets).run())
    result = outcome.result
    totals = result["fseflow"]["totals"]
    assert totals["offered_fse"] == pytest.approx(RATE * SECONDS, abs=20)
    assert totals["acked_fse"] + totals.get("refused_fse", 0) == totals["offered_fse"]
    assert not [k for k in totals if k.startswith("error:")], totals
    assert outcome.classified_all, f"{outcome.missing} FSE acknowledged and not classified"
    assert result["fseflow"]["classified"] == totals["acked_fse"]
    # Days closed during the run went through the pôle.
    closes = result["fseflow"]["dayCloses"]
    assert len(closes) >= 2
    assert all(figures["pole_closed_s"] is not None for figures in closes.values()), closes
    # Consumer groups were sampled from the broker's committed offsets (Consumer.committed works
    # on this broker: no group fell back to /metrics), national-check consumed, and once every
    # FSE was classified and the days closed its backlog was read as nothing left.
    assert result["fseflow"]["lagFromMetrics"] == {}, result["fseflow"]["lagFromMetrics"]
    backlog = [b for b in result["fseflow"]["backlogPerGroup"]["national-check"] if b is not None]
    assert len(backlog) >= SECONDS / 10 - 1, result["fseflow"]["sampleErrors"]
    assert backlog[-1] == 0, backlog
    assert sum(r or 0 for r in result["fseflow"]["consumeRatePerGroup"]["national-check"]) > 0
    # CPU was scraped; the trivial chain ran.
    assert result["fseflow"]["cpuCores"].get("national-check")
    assert result["fseflow"]["chain"]["msgs_per_s"] > 0
    assert result["fseflow"]["efficiency"] is not None

    written = {p.name for p in write_outputs(result, tmp_path)}
    assert {
        "result.json",
        "timeseries.csv",
        "throughput.png",
        "latency.png",
        "lag.png",
        "report.html",
    } <= written
    saved = json.loads((tmp_path / "result.json").read_text())
    windows = len(saved["publishRate"])
    assert windows >= SECONDS / 10
    with (tmp_path / "timeseries.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == windows
    assert sum(saved["publishRate"]) * 10 == pytest.approx(totals["acked_fse"], rel=0.01)
