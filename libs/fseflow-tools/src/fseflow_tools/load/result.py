"""result.json and the CSV time series.

result.json uses the OpenMessaging Benchmark's field names (its ``TestResult``) for what they
mean there, one value per 10-second window in the lists: ``publishRate`` (FSE acknowledged by
SubmitLot per second), ``publishErrorRate`` (failed SubmitLot calls per second),
``consumeRate`` (FSE classified per second), ``backlog`` (records behind, every group),
``publishLatency*`` (SubmitLot, ms, from the intended instant), ``publishDelayLatency*`` (intended
instant -> call started, µs), ``endToEndLatency*`` (receipt -> classified, ms), of which
``readDelayLatency*`` (the verdict produced -> read by this tool, ms), and the
``aggregated*`` figures of the whole run. What OpenMessaging has no name for is under
``fseflow``: offered rate, consumption and backlog per consumer group, errors by gRPC status,
CPU and memory per process, day closes, the knee, the trivial chain and the generator's ceiling.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fseflow_tools.load import windows as w

RESULT_FILE = "result.json"
CSV_FILE = "timeseries.csv"


def build(
    windows: Sequence[w.Window],
    *,
    workload: Mapping[str, Any],
    driver: Mapping[str, Any],
    extra: Mapping[str, Any],
    width: float = w.WINDOW_SECONDS,
) -> dict[str, Any]:
    """The result document of a run's windows; ``extra`` goes under ``fseflow``."""
    series = w.rows(windows, width)
    result: dict[str, Any] = {
        "workload": workload.get("profile", "load"),
        "driver": driver.get("name", "fseflow-grpc"),
        "messageSize": driver.get("message_size"),
        "topics": driver.get("topics"),
        "partitions": driver.get("partitions"),
        "producersPerTopic": driver.get("workers"),
        "consumersPerTopic": driver.get("consumers"),
        "publishRate": [r["publish_rate"] for r in series],
        "publishErrorRate": [r["publish_error_rate"] for r in series],
        "consumeRate": [r["classified_rate"] for r in series],
        "backlog": [w.total_backlog(r) for r in series],
    }
    for prefix, _name in (*w.LATENCY_SERIES_MS, ("publishDelayLatency", w.PUBLISH_DELAY)):
        for suffix in (*(s for s, _ in w.PERCENTILES), "Max", "Avg"):
            result[f"{prefix}{suffix}"] = [r[f"{prefix}{suffix}"] for r in series]
    for prefix, name in w.LATENCY_SERIES_MS:
        total = w.merged(windows, name)
        for suffix, value in w.latency_ms(total).items():
            result[f"aggregated{prefix[0].upper()}{prefix[1:]}{suffix}"] = value
        result[f"aggregated{prefix[0].upper()}{prefix[1:]}Quantiles"] = _quantiles(total, 1000.0)
    for suffix, value in w.latency_us(w.merged(windows, w.PUBLISH_DELAY)).items():
        result[f"aggregatedPublishDelayLatency{suffix}"] = value
    result["fseflow"] = {
        "windowSeconds": width,
        "workload": dict(workload),
        "driver": dict(driver),
        "totals": totals(windows),
        "offeredRate": [r["offered_rate"] for r in series],
        "refusedRate": [r["refused_rate"] for r in series],
        "documentsRate": [r["documents_rate"] for r in series],
        "errors": [r["errors"] for r in series],
        "consumeRatePerGroup": _by_key(series, "consume_rate"),
        "backlogPerGroup": _by_key(series, "backlog"),
        "cpuCores": _by_key(series, "cpu_cores"),
        "rssBytes": _by_key(series, "rss_bytes"),
        **extra,
    }
    return result


def totals(windows: Sequence[w.Window]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for window in windows:
        for key, value in window.counts.items():
            counts[key] = counts.get(key, 0) + value
    return dict(sorted(counts.items()))


def _quantiles(h: Any, divisor: float) -> dict[str, float]:
    if h.get_total_count() == 0:
        return {}
    return {
        str(q): round(h.get_value_at_percentile(q) / divisor, 3)
        for q in (50, 75, 90, 95, 99, 99.9, 99.99, 100)
    }


def _by_key(series: Sequence[Mapping[str, Any]], field: str) -> dict[str, list[Any]]:
    """{name: one value per window (None where that window has none)}."""
    names = sorted({name for row in series for name in row[field]})
    return {name: [row[field].get(name) for row in series] for name in names}


def write_json(result: Mapping[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RESULT_FILE
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return path


def read_json(path: Path) -> dict[str, Any]:
    """A result.json, or the one in a directory; ValueError saying what is wrong with it."""
    target = path / RESULT_FILE if path.is_dir() else path
    try:
        document = json.loads(target.read_text())
    except FileNotFoundError:
        raise ValueError(f"{target}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{target}: not JSON ({exc})") from None
    if not isinstance(document, dict) or "publishRate" not in document or "fseflow" not in document:
        raise ValueError(f"{target}: not a result of `fseflow load` (no publishRate / fseflow)")
    return document


def csv_rows(result: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The time series, one row per window, per-group and per-process figures as columns."""
    own = result["fseflow"]
    count = len(result["publishRate"])
    width = own["windowSeconds"]
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {
            "window": i,
            "start_s": round(i * width, 3),
            "offered_rate": own["offeredRate"][i],
            "publish_rate": result["publishRate"][i],
            "publish_error_rate": result["publishErrorRate"][i],
            "consume_rate": result["consumeRate"][i],
            "backlog": result["backlog"][i],
        }
        for prefix in ("publishLatency", "endToEndLatency"):
            for suffix in ("50pct", "95pct", "99pct", "999pct", "Max"):
                row[f"{prefix}{suffix}_ms"] = result[f"{prefix}{suffix}"][i]
        row["publishDelayLatency99pct_us"] = result["publishDelayLatency99pct"][i]
        for section, column in (
            ("consumeRatePerGroup", "consume_rate"),
            ("backlogPerGroup", "backlog"),
            ("cpuCores", "cpu_cores"),
            ("rssBytes", "rss_bytes"),
        ):
            for name, values in own[section].items():
                row[f"{column}.{name}"] = values[i]
        for status, n in own["errors"][i].items():
            row[f"errors.{status}"] = n
        rows.append(row)
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    return columns, rows


def write_csv(result: Mapping[str, Any], directory: Path) -> Path:
    columns, rows = csv_rows(result)
    path = directory / CSV_FILE
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path
