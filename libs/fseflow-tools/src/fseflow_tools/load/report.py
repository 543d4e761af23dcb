"""PNG plots of a result and the one-page HTML report that embeds them.

Plots are drawn on ``matplotlib.figure.Figure`` objects (``plotting``: the Agg canvas, no pyplot, no
display): throughput offered vs consumed per stage, latency percentiles over time, backlog per
consumer group over time, and CPU per process when it was scraped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fseflow_tools.load import plotting

if TYPE_CHECKING:
    from matplotlib.figure import Figure


THROUGHPUT_PNG = "throughput.png"
LATENCY_PNG = "latency.png"
LAG_PNG = "lag.png"
CPU_PNG = "cpu.png"
REPORT_HTML = "report.html"
# The groups of the data path, in path order (the clock relays' backlogs are a few records).
DATA_GROUPS = ("national-check", "pointage", "relances")


def _times(result: Mapping[str, Any]) -> list[float]:
    width = result["fseflow"]["windowSeconds"]
    return [i * width for i in range(len(result["publishRate"]))]


def _plot(ax: Any, xs: Sequence[float], ys: Sequence[Any], label: str, **style: Any) -> None:
    """A line through the windows that have a value (None: the window had none)."""
    points = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None]
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], label=label, **style)


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def throughput(result: Mapping[str, Any], path: Path) -> Path:
    own = result["fseflow"]
    xs = _times(result)
    figure = plotting.figure(10, 4.5)
    ax = figure.add_subplot()
    _plot(ax, xs, own["offeredRate"], "offered (FSE/s)", color="black", linestyle="--")
    _plot(ax, xs, result["publishRate"], "acknowledged by ingest (FSE/s)", color="tab:blue")
    _plot(ax, xs, result["consumeRate"], "classified (FSE/s)", color="tab:green")
    for group in DATA_GROUPS:
        if group in own["consumeRatePerGroup"]:
            _plot(ax, xs, own["consumeRatePerGroup"][group], f"consumed by {group} (records/s)", alpha=0.7)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("per second")
    ax.set_title("Throughput: offered vs consumed per stage")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(figure, path)


def latency(result: Mapping[str, Any], path: Path) -> Path:
    xs = _times(result)
    figure = plotting.figure(10, 4.5)
    ax = figure.add_subplot()
    series = (
        ("publishLatency", "SubmitLot"),
        ("endToEndLatency", "receipt -> classified"),
        ("readDelayLatency", "of which verdict produced -> read"),
    )
    for prefix, label in series:
        for suffix, style in (("50pct", ":"), ("99pct", "-"), ("999pct", "--")):
            _plot(
                ax, xs, result[f"{prefix}{suffix}"], f"{label} {suffix.replace('pct', '')}", linestyle=style
            )
    ax.set_yscale("log")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("ms (log)")
    ax.set_title("Latency percentiles per 10 s window (from the intended send instant)")
    ax.legend(loc="best", fontsize="small", ncol=2)
    ax.grid(alpha=0.3, which="both")
    return _save(figure, path)


def lag(result: Mapping[str, Any], path: Path) -> Path:
    own = result["fseflow"]
    xs = _times(result)
    figure = plotting.figure(10, 4.5)
    ax = figure.add_subplot()
    for group, values in own["backlogPerGroup"].items():
        _plot(ax, xs, values, group)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("records behind")
    ax.set_title("Backlog (lag) per consumer group")
    if own["backlogPerGroup"]:
        ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(figure, path)


def cpu(result: Mapping[str, Any], path: Path) -> Path | None:
    own = result["fseflow"]
    if not own["cpuCores"]:
        return None
    xs = _times(result)
    figure = plotting.figure(10, 4.5)
    ax = figure.add_subplot()
    for process, values in own["cpuCores"].items():
        _plot(ax, xs, values, process)
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("cores")
    ax.set_title("CPU per process (/metrics: process_cpu_seconds_total)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return _save(figure, path)


def plots(result: Mapping[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    made = [
        throughput(result, directory / THROUGHPUT_PNG),
        latency(result, directory / LATENCY_PNG),
        lag(result, directory / LAG_PNG),
    ]
    cpu_plot = cpu(result, directory / CPU_PNG)
    return [*made, *([cpu_plot] if cpu_plot else [])]


def summary_lines(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The figures of the summary table (the terminal's and the HTML page's)."""
    own = result["fseflow"]
    totals = own["totals"]

    def ms(key: str) -> str:
        value = result.get(key)
        return "-" if value is None else f"{value:,.1f} ms"

    lines = [
        ("profile", str(own["workload"].get("description", result["workload"]))),
        ("target", str(own["driver"].get("target", "?"))),
        ("FSE offered / acknowledged", f"{totals.get('offered_fse', 0):,} / {totals.get('acked_fse', 0):,}"),
        ("FSE refused (negative ARL)", f"{totals.get('refused_fse', 0):,}"),
        ("FSE classified", f"{totals.get('classified', 0):,}"),
        (
            "failed calls",
            ", ".join(f"{k} {v}" for k, v in totals.items() if k.startswith("error:")) or "none",
        ),
        (
            "SubmitLot p50 / p99 / p99.9 / max",
            " / ".join(ms(f"aggregatedPublishLatency{s}") for s in ("50pct", "99pct", "999pct", "Max")),
        ),
        (
            "receipt -> classified p50 / p99 / p99.9 / max",
            " / ".join(ms(f"aggregatedEndToEndLatency{s}") for s in ("50pct", "99pct", "999pct", "Max")),
        ),
        (
            "  of which verdict produced -> read p50 / p99",
            " / ".join(ms(f"aggregatedReadDelayLatency{s}") for s in ("50pct", "99pct")),
        ),
        (
            "publish delay p99 (generator behind)",
            f"{result.get('aggregatedPublishDelayLatency99pct') or 0:,} µs",
        ),
    ]
    backlogs = [b for b in result["backlog"] if b is not None]
    if backlogs:
        records = f"{backlogs[-1]:,} / {max(backlogs):,} records"
        holders = _end_backlog_by_group(result)
        lines.append(
            ("backlog at the end / max", f"{records} (at the end: {holders})" if holders else records)
        )
    for key, label, text in (
        ("knee", "knee", _knee),
        ("chain", "trivial chain", _chain),
        ("efficiency", "efficiency (pipeline FSE/s ÷ chain msg/s)", str),
        ("ceiling", "generator ceiling (null endpoint)", _ceiling),
    ):
        if own.get(key) is not None:
            lines.append((label, text(own[key])))
    for day, figures in sorted(own.get("dayCloses", {}).items()):
        lines.append((f"day {day} closed -> pôle done", _short(figures)))
    return lines


def _end_backlog_by_group(result: Mapping[str, Any]) -> str:
    """Which groups hold the backlog of the last sampled window, largest first: so a reader tells a
    stage falling behind from one still working through a day just closed (relances after a close)."""
    sampled = [i for i, b in enumerate(result["backlog"]) if b is not None]
    per_group: Mapping[str, Sequence[int | None]] = result["fseflow"].get("backlogPerGroup", {})
    if not sampled:
        return ""
    last = {name: series[sampled[-1]] or 0 for name, series in per_group.items() if len(series) > sampled[-1]}
    held = sorted(((b, name) for name, b in last.items() if b), reverse=True)
    return "; ".join(f"{name} {b:,}" for b, name in held)


def _rate(value: Any, unit: str) -> str:
    return "none" if value is None else f"{value:,.0f} {unit}"


def _knee(knee: Mapping[str, Any]) -> str:
    figures = [
        f"p99 receipt -> classified {_number(knee.get('endToEndLatency99pct'))} ms",
        f"SubmitLot {_number(knee.get('publishLatency99pct'))} ms",
    ]
    if knee.get("saturatedStage"):
        figures.append(f"busiest: {knee['saturatedStage']}")
    if knee.get("rate") is None and knee.get("note"):
        figures.append(str(knee["note"]))
    return f"{_rate(knee.get('rate'), 'FSE/s')} ({'; '.join(figures)})"


def _chain(chain: Mapping[str, Any]) -> str:
    return (
        f"{_rate(chain.get('msgs_per_s'), 'msg/s')} ({chain.get('messages', 0):,} messages of "
        f"{chain.get('message_bytes', '?')} B, {chain.get('hops', '?')} hops)"
    )


def _ceiling(ceiling: Mapping[str, Any]) -> str:
    behind = ceiling.get("first_step_behind")
    return (
        f"{_rate(ceiling.get('acked_fse_per_s'), 'FSE/s')} acknowledged by a null endpoint "
        f"({ceiling.get('workers', '?')} worker(s); first step behind: "
        f"{_rate(behind, 'FSE/s') if behind is not None else 'none up to the last'})"
    )


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in value.items() if not isinstance(v, (Mapping, list)))
    return str(value)


def write_html(result: Mapping[str, Any], images: Sequence[Path], directory: Path) -> Path:
    """One self-contained page: the summary table and every plot inlined (base64)."""
    rows = "\n".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in summary_lines(result)
    )
    figures = "\n".join(
        f'<figure><img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.read_bytes()).decode()}"><figcaption>{html.escape(p.stem)}</figcaption></figure>'
        for p in images
    )
    title = f"fseflow load: {html.escape(str(result['workload']))}"
    width = result["fseflow"]["windowSeconds"]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1050px;margin:2em auto}}th{{text-align:left;padding-right:2em}}
td,th{{border-bottom:1px solid #ddd;padding:.2em .5em}}img{{max-width:100%}}</style></head>
<body><h1>{title}</h1>
<p>Windows of {width:g} s; latencies from each send's intended instant (open loop).
The time series is in timeseries.csv, every figure in result.json.</p>
<table>{rows}</table>
{figures}
</body></html>
"""
    path = directory / REPORT_HTML
    path.write_text(page)
    return path
