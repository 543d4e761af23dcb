"""result.json, the CSV time series, the PNG plots and the HTML page, written from synthetic
windows; and `fseflow load compare`."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fseflow_tools.cli.load import write_outputs
from fseflow_tools.cli.main import app
from fseflow_tools.load import compare, report
from fseflow_tools.load import windows as w
from fseflow_tools.load.result import build, read_json

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _windows(rate: float, count: int = 6) -> list[w.Window]:
    windows = []
    for i in range(count):
        window = w.Window(i)
        window.counts = Counter(
            {w.OFFERED_FSE: int(rate * 10), w.ACKED_FSE: int(rate * 10), w.CLASSIFIED: int(rate * 9)}
        )
        if i == 3:
            window.counts["error:UNAVAILABLE"] = 2
        latencies = (
            (w.PUBLISH, 20 + i),
            (w.END_TO_END, 300 + 10 * i),
            (w.READ_DELAY, 5 + i),
            (w.PUBLISH_DELAY, 0.5),
        )
        for name, ms in latencies:
            for _ in range(50):
                w.record(window.histogram(name), ms * 1000)
        window.sampled_at = i * 10 + 9.0
        window.committed = {"national-check": int(rate * 10 * (i + 1)), "pointage": int(rate * 9 * (i + 1))}
        window.backlog = {"national-check": 100 * i, "pointage": 50}
        window.cpu_seconds = {"ingest": 2.0 * i, "national-check": 5.0 * i}
        window.rss_bytes = {"ingest": 90_000_000}
        windows.append(window)
    return windows


def _result(rate: float, knee: float | None = None) -> dict[str, Any]:
    extra = {"knee": {"rate": knee, "saturatedStage": "national-check"}} if knee else {}
    return build(
        _windows(rate),
        workload={"profile": "constant", "description": f"constant {rate} FSE/s"},
        driver={"name": "fseflow-grpc-ingest/confluent", "target": "127.0.0.1:50051", "partitions": 8},
        extra={**extra, "dayCloses": {"2026-03-02": {"classified_s": 1.5, "pole_closed_s": 4.2}}},
    )


def test_result_json_uses_the_openmessaging_names_one_value_per_window() -> None:
    result = _result(1000.0)
    for field in (
        "publishRate",
        "publishErrorRate",
        "consumeRate",
        "backlog",
        "publishLatency99pct",
        "publishDelayLatency99pct",
        "endToEndLatency999pct",
        "readDelayLatency99pct",
        "publishLatencyMax",
    ):
        assert len(result[field]) == 6, field
    assert result["publishRate"][0] == 1000.0
    assert result["consumeRate"][0] == 900.0
    assert result["publishErrorRate"][3] == 0.2
    assert result["backlog"][2] == 250
    assert result["aggregatedPublishLatency50pct"] == pytest.approx(22.0, rel=0.05)
    assert result["aggregatedEndToEndLatencyMax"] == pytest.approx(350.0, rel=0.01)
    assert result["aggregatedReadDelayLatencyMax"] == pytest.approx(10.0, rel=0.01)
    assert result["aggregatedPublishDelayLatency99pct"] == pytest.approx(500, rel=0.01)  # µs
    assert result["fseflow"]["consumeRatePerGroup"]["national-check"][1:] == [1000.0] * 5
    assert result["fseflow"]["cpuCores"]["national-check"][1:] == [0.5] * 5
    assert result["fseflow"]["errors"][3] == {"UNAVAILABLE": 2}
    assert result["fseflow"]["totals"]["offered_fse"] == 60_000


def test_the_report_files_hold_the_windows(tmp_path: Path) -> None:
    result = _result(1000.0)
    written = write_outputs(result, tmp_path / "r")
    names = {p.name for p in written}
    assert names == {
        "result.json",
        "timeseries.csv",
        "throughput.png",
        "latency.png",
        "lag.png",
        "cpu.png",
        "report.html",
    }
    assert json.loads((tmp_path / "r" / "result.json").read_text())["publishRate"] == result["publishRate"]
    with (tmp_path / "r" / "timeseries.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert rows[2]["backlog.national-check"] == "200"
    assert rows[3]["errors.UNAVAILABLE"] == "2"
    assert float(rows[4]["publish_rate"]) == 1000.0
    for png in ("throughput.png", "latency.png", "lag.png", "cpu.png"):
        assert (tmp_path / "r" / png).read_bytes()[:8] == PNG_MAGIC
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.count("data:image/png;base64,iVBORw0KGgo") == 4  # every plot inlined
    assert "receipt -&gt; classified" in page


def test_summary_lines_name_the_figures() -> None:
    lines = dict(report.summary_lines(_result(1000.0, knee=8000.0)))
    assert lines["FSE offered / acknowledged"] == "60,000 / 60,000"
    assert lines["failed calls"] == "error:UNAVAILABLE 2"
    assert lines["knee"].startswith("8,000 FSE/s (p99 receipt -> classified ")
    assert "busiest: national-check" in lines["knee"]
    assert lines["  of which verdict produced -> read p50 / p99"].endswith(" ms")
    assert lines["day 2026-03-02 closed -> pôle done"] == "classified_s 1.5, pole_closed_s 4.2"
    assert (
        lines["backlog at the end / max"] == "550 / 550 records (at the end: national-check 500; pointage 50)"
    )


def test_an_empty_backlog_at_the_end_names_no_group() -> None:
    result = _result(1000.0)
    result["backlog"] = [550, 0]
    result["fseflow"]["backlogPerGroup"] = {"national-check": [500, 0], "pointage": [50, None]}
    assert dict(report.summary_lines(result))["backlog at the end / max"] == "0 / 550 records"


def test_summary_lines_read_the_ceiling_and_the_chain_as_sentences() -> None:
    result = _result(1000.0)
    result["fseflow"]["ceiling"] = {
        "acked_fse_per_s": 15983,
        "first_step_behind": 32000.0,
        "steps": [{"offered_rate": 1000.0, "kept_up": True}],
        "workers": 2,
    }
    result["fseflow"]["chain"] = {"msgs_per_s": 46255.4, "messages": 200000, "message_bytes": 400, "hops": 3}
    lines = dict(report.summary_lines(result))
    assert lines["generator ceiling (null endpoint)"] == (
        "15,983 FSE/s acknowledged by a null endpoint (2 worker(s); first step behind: 32,000 FSE/s)"
    )
    assert lines["trivial chain"] == "46,255 msg/s (200,000 messages of 400 B, 3 hops)"


def test_compare_puts_two_results_side_by_side(tmp_path: Path) -> None:
    a, b = _result(1000.0, knee=8000.0), _result(1500.0, knee=10000.0)
    rows = {name: (va, vb, change) for name, va, vb, change in compare.table(a, b)}
    assert rows["mean offered FSE/s"] == ("1,000.0", "1,500.0", "+50.0%")
    assert rows["knee (FSE/s)"] == ("8,000.0", "10,000.0", "+25.0%")
    assert "trivial chain (msg/s)" not in rows
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "result.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    outcome = CliRunner().invoke(
        app, ["load", "compare", str(tmp_path / "a"), str(tmp_path / "b.json"), "--out", str(tmp_path)]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "+25.0%" in outcome.output
    assert (tmp_path / "compare.png").read_bytes()[:8] == PNG_MAGIC


def test_compare_refuses_what_is_not_a_result(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not a result of `fseflow load`"):
        read_json(tmp_path / "x.json")
    outcome = CliRunner().invoke(
        app, ["load", "compare", str(tmp_path / "x.json"), str(tmp_path / "none.json")]
    )
    assert outcome.exit_code == 2


def test_compare_means_leave_out_the_drain_windows_after_the_schedule(tmp_path: Path) -> None:
    a = _result(20.0)
    b = _result(20.0)
    for result in (a, b):  # two windows of reading answers after the schedule: nothing offered
        result["fseflow"]["offeredRate"] += [0.0, 0.0]
        result["publishRate"] += [0.0, None]
    rows = {name: (va, vb) for name, va, vb, _ in compare.table(a, b)}
    assert rows["mean offered FSE/s"] == ("20.0", "20.0")
    assert rows["mean acknowledged FSE/s"] == ("20.0", "20.0")


def test_compare_writes_its_plot_beside_b_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, rate in (("a", 10.0), ("b", 20.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(json.dumps(_result(rate)))
    monkeypatch.chdir(tmp_path)
    outcome = CliRunner().invoke(app, ["load", "compare", "a", "b"])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "b" / "compare.png").read_bytes()[:8] == PNG_MAGIC
    assert not (tmp_path / "compare.png").exists()


def test_load_refuses_an_out_it_cannot_write_before_sending_anything(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for out in (a_file, a_file / "r"):
        # No stack is running and none is asked for: a check made after the run would start one.
        outcome = CliRunner().invoke(app, ["load", "--rate", "5", "--duration", "5", "--out", str(out)])
        assert outcome.exit_code == 2, outcome.output
        assert f"--out {out}: cannot write there: {a_file} is a file, not a directory" in " ".join(
            outcome.output.split()
        )
