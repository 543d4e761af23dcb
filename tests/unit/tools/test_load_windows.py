"""Window arithmetic: worker deltas merged through HDR encode/decode, rates, samples, errors."""

from __future__ import annotations

from collections import Counter

import pytest

from fseflow_tools.load import profiles
from fseflow_tools.load import windows as w
from fseflow_tools.load.openloop import OK, REFUSED, Outcome
from fseflow_tools.load.profiles import Send
from fseflow_tools.load.worker import WindowRecorder


def _delta(window: int, latencies_ms: list[float], counts: dict[str, int]) -> w.Delta:
    h = w.histogram()
    for value in latencies_ms:
        w.record(h, value * 1000)
    return w.Delta(window, Counter(counts), {w.PUBLISH: h.encode()})


def test_two_workers_deltas_add_up_counts_and_histograms() -> None:
    windows: dict[int, w.Window] = {}
    w.merge(windows, _delta(0, [1.0] * 90, {w.ACKED_FSE: 900}))
    w.merge(windows, _delta(0, [100.0] * 10, {w.ACKED_FSE: 100, "error:UNAVAILABLE": 2}))
    w.merge(windows, _delta(1, [5.0], {w.ACKED_FSE: 10}))
    assert windows[0].counts[w.ACKED_FSE] == 1000
    merged = windows[0].histograms[w.PUBLISH]
    assert merged.get_total_count() == 100
    figures = w.latency_ms(merged)
    assert figures["50pct"] == pytest.approx(1.0, rel=0.01)
    assert figures["95pct"] == pytest.approx(100.0, rel=0.01)
    assert figures["Max"] == pytest.approx(100.0, rel=0.01)
    assert w.errors(windows[0].counts) == {"UNAVAILABLE": 2}


def test_rows_give_rates_per_second_and_fill_gaps() -> None:
    windows = {0: w.Window(0), 2: w.Window(2)}
    windows[0].counts.update({w.OFFERED_FSE: 1000, w.ACKED_FSE: 950, "error:DEADLINE_EXCEEDED": 3})
    windows[2].counts.update({w.OFFERED_FSE: 500, w.CLASSIFIED: 400})
    rows = w.rows(list(windows.values()), 10.0)
    assert [r["window"] for r in rows] == [0, 1, 2]
    assert rows[0]["offered_rate"] == 100.0
    assert rows[0]["publish_rate"] == 95.0
    assert rows[0]["publish_error_rate"] == 0.3
    assert rows[0]["errors"] == {"DEADLINE_EXCEEDED": 3}
    assert rows[1]["offered_rate"] == 0.0
    assert rows[1]["publishLatency99pct"] is None
    assert rows[2]["classified_rate"] == 40.0


def test_the_live_glance_shows_the_rows_figures() -> None:
    window = w.Window(3)
    window.counts.update({w.OFFERED_FSE: 510, w.ACKED_FSE: 500, w.CLASSIFIED: 480})
    for value_ms in [20.0] * 98 + [300.0, 900.0]:
        w.record(window.histogram(w.PUBLISH), value_ms * 1000)
        w.record(window.histogram(w.END_TO_END), value_ms * 2000)
    row, glance = w.rows([window], 10.0)[0], w.glance(window, 10.0)
    shown = ("offered_rate", "publish_rate", "classified_rate", "publishLatency99pct", "endToEndLatency99pct")
    for key in shown:
        assert glance[key] == pytest.approx(row[key], abs=0.01), key
    assert glance["endToEndLatency99pct"] == pytest.approx(600.0, rel=0.01)
    assert w.glance(None) == {}
    assert w.glance(w.Window(4))["publishLatency99pct"] is None


def test_a_frozen_window_does_not_grow_with_the_run() -> None:
    window = w.Window(0)
    window.counts[w.OFFERED_FSE] = 10
    window.backlog = {"national-check": 5}
    frozen = window.frozen()
    window.counts["error:UNAVAILABLE"] = 1  # a late worker delta while a thread summarises
    window.backlog["pointage"] = 7
    window.histogram(w.PUBLISH)
    assert dict(frozen.counts) == {w.OFFERED_FSE: 10}
    assert frozen.backlog == {"national-check": 5}
    assert w.PUBLISH not in frozen.histograms
    assert w.rows([frozen], 10.0)[0]["errors"] == {}


def test_consumption_and_cpu_are_rates_between_samples_at_their_own_instants() -> None:
    first, second, third = w.Window(0), w.Window(1), w.Window(2)
    first.sampled_at, first.committed, first.cpu_seconds = 9.0, {"national-check": 1000}, {"ingest": 5.0}
    # The sampler missed window 1; window 2's sample is 20 s after the first one.
    third.sampled_at, third.committed, third.cpu_seconds = 29.0, {"national-check": 41_000}, {"ingest": 15.0}
    third.backlog = {"national-check": 250}
    rows = w.rows([first, second, third], 10.0)
    assert rows[1]["consume_rate"] == {}
    assert rows[2]["consume_rate"] == {"national-check": 2000.0}
    assert rows[2]["cpu_cores"] == {"ingest": 0.5}
    assert w.total_backlog(rows[2]) == 250
    assert w.total_backlog(rows[1]) is None


def test_a_group_first_seen_counts_from_its_first_sample() -> None:
    assert w.per_second({}, {"relances": 500}, 10.0) == {"relances": 0.0}
    assert w.per_second({"relances": 500}, {"relances": 400}, 10.0) == {"relances": 0.0}


def test_the_worker_recorder_counts_offers_by_intended_instant_and_answers_by_their_arrival() -> None:
    profile = profiles.constant(10.0, 100.0, compress=8640)  # a business day lasts 10 s
    recorder = WindowRecorder(start_at=1000.0, profile=profile)
    send = Send(index=0, at=9.5, fse=12)
    recorder.offered(send, 1009.5)
    # Answered at 1012.5: 3 s after its intended instant, started 2 s late.
    recorder.answered(Outcome(send, 1009.5, 1011.5, 1012.5, OK))
    refused = Send(index=1, at=9.9, fse=8)
    recorder.offered(refused, 1009.9)
    recorder.answered(Outcome(refused, 1009.9, 1009.9, 1010.0, REFUSED))
    failed = Send(index=2, at=10.5, fse=10)
    recorder.answered(Outcome(failed, 1010.5, 1010.5, 1040.5, "DEADLINE_EXCEEDED"))
    deltas, answered = recorder.flush()
    by_window = {d.window: d for d in deltas}
    assert by_window[0].counts == Counter({w.OFFERED_LOTS: 2, w.OFFERED_FSE: 20})
    assert by_window[1].counts == Counter(
        {w.ACKED_LOTS: 1, w.ACKED_FSE: 12, w.REFUSED_LOTS: 1, w.REFUSED_FSE: 8}
    )
    assert by_window[4].counts == Counter({"error:DEADLINE_EXCEEDED": 1})
    windows: dict[int, w.Window] = {}
    for delta in deltas:
        w.merge(windows, delta)
    latencies = w.latency_ms(windows[1].histograms[w.PUBLISH])
    assert latencies["Max"] == pytest.approx(3000.0, rel=0.001)
    assert w.latency_us(windows[1].histograms[w.PUBLISH_DELAY])["Max"] == pytest.approx(2_000_000, rel=0.001)
    assert answered == {0: 2, 1: 1}  # lots answered per business day of their intended instant
    assert recorder.flush() == ([], {})
