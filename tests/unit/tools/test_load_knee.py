"""The knee decision on synthetic windows: sustained steps, then the first that is not."""

from __future__ import annotations

from typing import Any

from fseflow_tools.load.knee import find_knee, judge_step, steps_of
from fseflow_tools.load.lag import growing

WIDTH = 10.0


def _row(
    start_s: float,
    rate: float,
    *,
    backlog: dict[str, int] | None = None,
    e2e_p99: float = 300.0,
    acked_share: float = 1.0,
    errors: float = 0.0,
    cpu: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "start_s": start_s,
        "offered_rate": rate,
        "publish_rate": rate * acked_share,
        "refused_rate": 0.0,
        "publish_error_rate": errors,
        "endToEndLatency99pct": e2e_p99,
        "publishLatency99pct": 40.0,
        "backlog": backlog if backlog is not None else {"national-check": 500, "pointage": 200},
        "cpu_cores": cpu or {"national-check": 0.4},
    }


def _step(number: int, rate: float, **kwargs: Any) -> list[dict[str, Any]]:
    return [_row(number * 60 + i * WIDTH, rate, **kwargs) for i in range(6)]


def _growing(start: int, by: int) -> list[dict[str, int]]:
    return [{"national-check": start + i * by, "pointage": 200} for i in range(6)]


def test_backlog_growth_over_n_windows() -> None:
    assert growing([10, 20, 30, 40], 3)
    assert not growing([10, 20, 15, 40], 3)
    assert not growing([10, 20, 30], 3)  # too few windows to say
    assert not growing([10, 11, 12, 13], 3, slack=5)  # within the noise
    assert growing([10, None, 20, 30, 40], 3)  # a window the sampler missed is skipped


def test_a_steady_backlog_is_sustainable_and_a_growing_one_is_not() -> None:
    steady = judge_step(0, 1000.0, _step(0, 1000.0), width_s=WIDTH)
    assert steady.sustainable, steady.reasons
    rows = [
        _row(60 + i * WIDTH, 2000.0, backlog=b, cpu={"national-check": 0.98, "ingest": 0.5})
        for i, b in enumerate(_growing(500, 5000))
    ]
    verdict = judge_step(1, 2000.0, rows, width_s=WIDTH)
    assert not verdict.sustainable
    assert verdict.growing_groups == ["national-check"]
    assert verdict.busiest == ("national-check", 0.98)


def test_the_knee_is_the_last_sustained_step_and_names_the_most_upstream_growing_stage() -> None:
    rows = _step(0, 1000.0) + _step(1, 2000.0, e2e_p99=900.0)
    for i, backlog in enumerate(_growing(1000, 8000)):
        rows.append(_row(120 + i * WIDTH, 3000.0, backlog={**backlog, "pointage": 200 + 9000 * i}))
    verdicts = [
        judge_step(n, rate, step_rows, width_s=WIDTH)
        for (n, step_rows), rate in zip(
            sorted(steps_of(rows, 60.0).items()), (1000.0, 2000.0, 3000.0), strict=True
        )
    ]
    knee = find_knee(verdicts)
    assert knee.rate == 2000.0
    assert knee.verdict is not None and knee.verdict.end_to_end_p99_ms == 900.0
    assert knee.first_unsustainable is not None and knee.first_unsustainable.rate == 3000.0
    assert knee.saturated_stage == "national-check"  # upstream of pointage, which also grew


def test_p99_over_the_limit_fails_a_step_even_without_lag() -> None:
    verdict = judge_step(0, 5000.0, _step(0, 5000.0, e2e_p99=2500.0), width_s=WIDTH, p99_limit_ms=2000.0)
    assert not verdict.sustainable
    assert verdict.reasons == ["p99 receipt -> classified 2,500 ms > 2,000 ms"]


def test_a_front_door_that_falls_behind_is_the_saturated_stage() -> None:
    verdicts = [
        judge_step(0, 1000.0, _step(0, 1000.0), width_s=WIDTH),
        judge_step(1, 9000.0, _step(1, 9000.0, acked_share=0.6), width_s=WIDTH),
    ]
    knee = find_knee(verdicts)
    assert knee.rate == 1000.0
    assert knee.saturated_stage == "ingest"


def test_every_step_sustained_says_to_go_higher_and_a_first_failing_step_has_no_knee() -> None:
    assert find_knee([judge_step(0, 1000.0, _step(0, 1000.0), width_s=WIDTH)]).rate == 1000.0
    failing = judge_step(0, 1000.0, _step(0, 1000.0, errors=0.5), width_s=WIDTH)
    knee = find_knee([failing])
    assert knee.rate is None
    assert "errors" in knee.note
