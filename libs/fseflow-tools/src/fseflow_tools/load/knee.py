"""The knee: the highest offered rate the pipeline sustains (pure functions).

A step of the step profile is *sustainable* when, over its windows after the first (the
pipeline settling to the new rate):
- no consumer group's backlog rose in each of ``growing_windows`` consecutive windows by more
  than 1 % of a window's offered FSE (it keeps up, even if it runs a constant backlog);
- p99 receipt -> classified stays within ``p99_limit_ms`` in every window;
- ingest acknowledged at least 95 % of what was offered (ARLs, positive or not), and no call failed.
The knee is the last sustainable step before the first one that is not. The stage that
saturated first is the most upstream group whose backlog kept growing (downstream groups only
see what it lets through), else ingest when the front door fell behind; the busiest process's
CPU in that step is given beside it (a Python process at ~1 core is saturated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fseflow_tools.load.lag import PIPELINE_GROUPS, growing

DEFAULT_P99_LIMIT_MS = 2000.0
DEFAULT_GROWING_WINDOWS = 3
ACK_SHARE = 0.95
PATH_ORDER = tuple(g.group for g in PIPELINE_GROUPS)


@dataclass
class StepVerdict:
    step: int
    rate: float  # offered FSE/s
    sustainable: bool
    reasons: list[str] = field(default_factory=list)
    end_to_end_p99_ms: float | None = None  # worst window
    publish_p99_ms: float | None = None  # worst window
    growing_groups: list[str] = field(default_factory=list)
    busiest: tuple[str, float] | None = None  # (process, cores) with the most CPU


@dataclass
class Knee:
    rate: float | None  # highest sustainable FSE/s; None when even the first step was not
    verdict: StepVerdict | None  # of that step
    first_unsustainable: StepVerdict | None
    saturated_stage: str | None
    note: str


def _worst(rows: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return max(values) if values else None


def judge_step(
    step: int,
    rate: float,
    rows: Sequence[Mapping[str, Any]],
    *,
    width_s: float,
    p99_limit_ms: float = DEFAULT_P99_LIMIT_MS,
    growing_windows: int = DEFAULT_GROWING_WINDOWS,
) -> StepVerdict:
    """The verdict on one step from its windows (the time-series rows), the first skipped."""
    settled = list(rows[1:])
    verdict = StepVerdict(step, rate, sustainable=True)
    if not settled:
        verdict.sustainable = False
        verdict.reasons.append("no settled window (step shorter than two windows)")
        return verdict
    slack = int(0.01 * rate * width_s)
    groups = [g for g in PATH_ORDER if any(g in r["backlog"] for r in settled)]
    for group in groups:
        series = [r["backlog"].get(group) for r in settled]
        if growing(series, growing_windows, slack=slack):
            verdict.growing_groups.append(group)
    if verdict.growing_groups:
        verdict.reasons.append(f"backlog kept growing: {', '.join(verdict.growing_groups)}")
    verdict.end_to_end_p99_ms = _worst(settled, "endToEndLatency99pct")
    verdict.publish_p99_ms = _worst(settled, "publishLatency99pct")
    if verdict.end_to_end_p99_ms is not None and verdict.end_to_end_p99_ms > p99_limit_ms:
        verdict.reasons.append(
            f"p99 receipt -> classified {verdict.end_to_end_p99_ms:,.0f} ms > {p99_limit_ms:,.0f} ms"
        )
    offered = sum(r["offered_rate"] for r in settled)
    acked = sum(r["publish_rate"] + r["refused_rate"] for r in settled)
    failed = sum(r["publish_error_rate"] for r in settled)
    if offered > 0 and acked < ACK_SHARE * offered:
        verdict.reasons.append(f"ingest acknowledged {acked / offered:.0%} of the offered FSE")
    if failed > 0:
        verdict.reasons.append(f"errors: {failed * width_s:,.0f} lots failed")
    busiest: dict[str, float] = {}
    for row in settled:
        for process, cores in row["cpu_cores"].items():
            busiest[process] = max(busiest.get(process, 0.0), cores)
    if busiest:
        name = max(busiest, key=lambda p: busiest[p])
        verdict.busiest = (name, busiest[name])
    verdict.sustainable = not verdict.reasons
    return verdict


def steps_of(rows: Sequence[Mapping[str, Any]], every_s: float) -> dict[int, list[Mapping[str, Any]]]:
    """The rows of each step (a window belongs to the step its start falls in)."""
    steps: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        steps.setdefault(int(row["start_s"] // every_s), []).append(row)
    return steps


def find_knee(verdicts: Sequence[StepVerdict]) -> Knee:
    last_good: StepVerdict | None = None
    for verdict in verdicts:
        if not verdict.sustainable:
            stage = _saturated_stage(verdict)
            cpu = (
                f"; busiest process {verdict.busiest[0]} at {verdict.busiest[1]:.2f} cores"
                if verdict.busiest
                else ""
            )
            note = f"step {verdict.step} at {verdict.rate:,.0f} FSE/s: {'; '.join(verdict.reasons)}{cpu}"
            return Knee(last_good.rate if last_good else None, last_good, verdict, stage, note)
        last_good = verdict
    return Knee(
        last_good.rate if last_good else None,
        last_good,
        None,
        None,
        "every step was sustainable: raise --max-rate to find the knee",
    )


def _saturated_stage(verdict: StepVerdict) -> str:
    if verdict.growing_groups:
        first = min(verdict.growing_groups, key=PATH_ORDER.index)
        return first.split(".")[0]
    if any(r.startswith(("ingest", "errors")) for r in verdict.reasons):
        return "ingest"
    if verdict.busiest is not None:
        return verdict.busiest[0]
    return "unknown"
