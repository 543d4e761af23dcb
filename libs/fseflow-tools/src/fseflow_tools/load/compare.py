"""``fseflow load compare A B``: two results side by side, and one plot of both."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fseflow_tools.load import plotting

COMPARE_PNG = "compare.png"


def _mean(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _mean_while_sending(values: list[Any]) -> float | None:
    """Mean up to the last window with a figure above 0: the drain windows after the schedule
    (nothing offered, answers still being read) would pull a constant rate down."""
    last = max((i for i, v in enumerate(values) if v), default=-1)
    return _mean(values[: last + 1])


def _sustained(result: Mapping[str, Any]) -> float | None:
    """Mean classified FSE/s over the windows that classified something."""
    return _mean([v for v in result["consumeRate"] if v])


def figures(result: Mapping[str, Any]) -> dict[str, float | None]:
    own = result["fseflow"]
    knee = own.get("knee") or {}
    return {
        "mean offered FSE/s": _mean_while_sending(own["offeredRate"]),
        "mean acknowledged FSE/s": _mean_while_sending(result["publishRate"]),
        "sustained classified FSE/s": _sustained(result),
        "SubmitLot p50 (ms)": result.get("aggregatedPublishLatency50pct"),
        "SubmitLot p99 (ms)": result.get("aggregatedPublishLatency99pct"),
        "SubmitLot p99.9 (ms)": result.get("aggregatedPublishLatency999pct"),
        "receipt -> classified p50 (ms)": result.get("aggregatedEndToEndLatency50pct"),
        "receipt -> classified p99 (ms)": result.get("aggregatedEndToEndLatency99pct"),
        "max backlog (records)": max((b for b in result["backlog"] if b is not None), default=None),
        "knee (FSE/s)": knee.get("rate"),
        "trivial chain (msg/s)": (own.get("chain") or {}).get("msgs_per_s"),
        "efficiency": own.get("efficiency"),
    }


def table(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, A, B, B vs A) for every figure either result has."""
    fa, fb = figures(a), figures(b)
    lines = []
    for name in fa:
        va, vb = fa[name], fb[name]
        if va is None and vb is None:
            continue
        change = f"{(vb - va) / va:+.1%}" if va and vb is not None else ""
        lines.append((name, _text(va), _text(vb), change))
    return lines


def _text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.1f}"


def plot(a: Mapping[str, Any], b: Mapping[str, Any], labels: tuple[str, str], path: Path) -> Path:
    figure = plotting.figure(10, 7)
    top, bottom = figure.subplots(2, 1, sharex=True)
    for result, label, color in ((a, labels[0], "tab:blue"), (b, labels[1], "tab:orange")):
        width = result["fseflow"]["windowSeconds"]
        xs = [i * width for i in range(len(result["publishRate"]))]
        top.plot(
            xs,
            result["fseflow"]["offeredRate"],
            linestyle="--",
            color=color,
            alpha=0.6,
            label=f"{label} offered",
        )
        top.plot(xs, result["consumeRate"], color=color, label=f"{label} classified")
        points = [(x, y) for x, y in zip(xs, result["endToEndLatency99pct"], strict=False) if y is not None]
        bottom.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=color,
            label=f"{label} p99 receipt -> classified",
        )
        points = [(x, y) for x, y in zip(xs, result["publishLatency99pct"], strict=False) if y is not None]
        bottom.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=color,
            linestyle=":",
            label=f"{label} p99 SubmitLot",
        )
    top.set_ylabel("FSE/s")
    top.legend(fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_yscale("log")
    bottom.set_ylabel("ms (log)")
    bottom.set_xlabel("seconds since start")
    bottom.legend(fontsize="small")
    bottom.grid(alpha=0.3, which="both")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
