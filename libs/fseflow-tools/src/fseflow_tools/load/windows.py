"""Ten-second windows: what each holds, how worker deltas merge into them, and the figures of
one window (pure functions, unit-tested).

Every figure is attributed to the window in which it happened, in wall time since the start of
the run: *offered* by the intended instant of the send, *acknowledged*, *errors* and the latency
of a send by the instant its answer came (as the OpenMessaging Benchmark does), latency always
counted from the intended instant (no coordinated omission). Histograms hold microseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

WINDOW_SECONDS = 10.0
HIGHEST_US = 3_600_000_000  # one hour
# OpenMessaging Benchmark's percentile suffixes.
PERCENTILES = (
    ("50pct", 50.0),
    ("75pct", 75.0),
    ("95pct", 95.0),
    ("99pct", 99.0),
    ("999pct", 99.9),
    ("9999pct", 99.99),
)

# Histogram names.
PUBLISH = "publish"  # SubmitLot: intended instant -> answer
PUBLISH_DELAY = "publish_delay"  # SubmitLot: intended instant -> the call actually started
DOCUMENT = "document"  # SubmitDocument: intended instant (its lot's answer) -> answer
END_TO_END = "end_to_end"  # receipt (ingest's clock) -> classified (the watcher's clock)
# Of END_TO_END, the part after national-check produced the verdict (the record's CreateTime):
# the producer's linger and acknowledgement, the broker, and this tool's own reading.
READ_DELAY = "read_delay"

# Counter keys.
OFFERED_LOTS, OFFERED_FSE = "offered_lots", "offered_fse"
ACKED_LOTS, ACKED_FSE = "acked_lots", "acked_fse"
REFUSED_LOTS, REFUSED_FSE = "refused_lots", "refused_fse"  # a negative ARL: answered, refused
DOCUMENTS_OK = "documents_ok"
CLASSIFIED = "classified"
ERROR_PREFIX = "error:"  # + gRPC status name, lots; "error:document:" + name, documents


# Result field prefix -> histogram, in milliseconds; publishDelayLatency is in microseconds.
LATENCY_SERIES_MS = (
    ("publishLatency", PUBLISH),
    ("endToEndLatency", END_TO_END),
    ("readDelayLatency", READ_DELAY),
    ("documentLatency", DOCUMENT),
)


def histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, 3)


def record(h: HdrHistogram, microseconds: float) -> None:
    h.record_value(min(max(1, int(microseconds)), HIGHEST_US))


def window_of(seconds: float, width: float = WINDOW_SECONDS) -> int:
    return max(0, int(seconds // width))


@dataclass
class Delta:
    """What a worker sends the parent about one window since its last delta (picklable)."""

    window: int
    counts: Counter[str] = field(default_factory=Counter)
    histograms: dict[str, bytes] = field(default_factory=dict)  # HdrHistogram.encode()


@dataclass
class Window:
    index: int
    counts: Counter[str] = field(default_factory=Counter)
    histograms: dict[str, HdrHistogram] = field(default_factory=dict)
    # Sampled at the window's end: per consumer group, committed offsets and backlog.
    committed: dict[str, int] = field(default_factory=dict)
    backlog: dict[str, int] = field(default_factory=dict)
    # Per process: CPU seconds (cumulated, as scraped) and resident bytes.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    rss_bytes: dict[str, int] = field(default_factory=dict)
    # When those samples were taken (seconds since the start), None when not sampled.
    sampled_at: float | None = None

    def histogram(self, name: str) -> HdrHistogram:
        if name not in self.histograms:
            self.histograms[name] = histogram()
        return self.histograms[name]

    def frozen(self) -> Window:
        """A copy to summarise in another thread while the run records on: its dicts are copied
        (they may grow meanwhile); the histograms are shared — copying one walks its ~22k
        counters in Python — so a late worker delta may move a figure, never break the walk."""
        return Window(
            self.index,
            Counter(self.counts),
            dict(self.histograms),
            dict(self.committed),
            dict(self.backlog),
            dict(self.cpu_seconds),
            dict(self.rss_bytes),
            self.sampled_at,
        )


def merge(windows: dict[int, Window], delta: Delta) -> None:
    """Add a worker's delta to the run's windows (HDR decode and add)."""
    window = windows.setdefault(delta.window, Window(delta.window))
    window.counts.update(delta.counts)
    for name, encoded in delta.histograms.items():
        window.histogram(name).decode_and_add(encoded)


def glance(window: Window | None, width: float = WINDOW_SECONDS) -> dict[str, Any]:
    """What the live view shows of a window, cheaply: a full row (``rows``) walks every histogram
    for nine figures and costs tens of milliseconds a window in pure Python — time the event loop
    also needs to read the verdicts it is measuring (D86)."""
    if window is None:
        return {}
    counts = window.counts

    def p99_ms(name: str) -> float | None:
        h = window.histograms.get(name)
        return None if h is None or h.get_total_count() == 0 else h.get_value_at_percentile(99) / 1000

    return {
        "offered_rate": counts[OFFERED_FSE] / width,
        "publish_rate": counts[ACKED_FSE] / width,
        "classified_rate": counts[CLASSIFIED] / width,
        "publishLatency99pct": p99_ms(PUBLISH),
        "endToEndLatency99pct": p99_ms(END_TO_END),
    }


def errors(counts: Mapping[str, int]) -> dict[str, int]:
    """gRPC status name -> lots that failed with it (documents under "document:NAME")."""
    return {k.removeprefix(ERROR_PREFIX): v for k, v in sorted(counts.items()) if k.startswith(ERROR_PREFIX)}


def latency_ms(h: HdrHistogram | None) -> dict[str, float | None]:
    """Percentiles and max in milliseconds; None for an empty histogram."""
    names = [name for name, _ in PERCENTILES] + ["Max", "Avg"]
    if h is None or h.get_total_count() == 0:
        return dict.fromkeys(names)
    figures: dict[str, float | None] = {
        name: round(h.get_value_at_percentile(p) / 1000, 3) for name, p in PERCENTILES
    }
    figures["Max"] = round(h.get_max_value() / 1000, 3)
    figures["Avg"] = round(h.get_mean_value() / 1000, 3)
    return figures


def latency_us(h: HdrHistogram | None) -> dict[str, int | None]:
    """The same in microseconds (OpenMessaging's publishDelayLatency unit)."""
    names = [name for name, _ in PERCENTILES] + ["Max", "Avg"]
    if h is None or h.get_total_count() == 0:
        return dict.fromkeys(names)
    figures: dict[str, int | None] = {name: int(h.get_value_at_percentile(p)) for name, p in PERCENTILES}
    figures["Max"] = int(h.get_max_value())
    figures["Avg"] = int(h.get_mean_value())
    return figures


def per_second(previous: Mapping[str, int], current: Mapping[str, int], seconds: float) -> dict[str, float]:
    """Offsets per second between two samples of committed offsets (a group absent from the
    previous sample starts at its first one: 0 for that interval)."""
    return {
        group: round(max(0, value - previous.get(group, value)) / seconds, 1)
        for group, value in current.items()
    }


def cpu_cores(
    previous: Mapping[str, float], current: Mapping[str, float], seconds: float
) -> dict[str, float]:
    """CPU seconds per second of each process between two samples (1.0 = one core busy)."""
    return {
        process: round(max(0.0, value - previous[process]) / seconds, 3)
        for process, value in current.items()
        if process in previous
    }


def merged(windows: Iterable[Window], name: str) -> HdrHistogram:
    """One histogram of every window's ``name`` histogram."""
    total = histogram()
    for window in windows:
        if name in window.histograms:
            total.add(window.histograms[name])
    return total


def rows(windows: Sequence[Window], width: float = WINDOW_SECONDS) -> list[dict[str, Any]]:
    """One flat record per window, in order, with rates per second: the time series.

    Windows with nothing in them are included so that the series has no holes. Consumption and
    CPU are rates between a window's sample and the previous sample (their own instants); a
    window the samplers missed has none (empty), rather than a guess.
    """
    if not windows:
        return []
    by_index = {w.index: w for w in windows}
    series = []
    last: Window | None = None  # the last window that had samples
    for index in range(min(by_index), max(by_index) + 1):
        window = by_index.get(index, Window(index))
        counts = window.counts
        consume: dict[str, float] = {}
        cores: dict[str, float] = {}
        if last is not None and window.sampled_at is not None and last.sampled_at is not None:
            elapsed = max(window.sampled_at - last.sampled_at, 1e-6)
            consume = per_second(last.committed, window.committed, elapsed)
            cores = cpu_cores(last.cpu_seconds, window.cpu_seconds, elapsed)
        row: dict[str, Any] = {
            "window": index,
            "start_s": round(index * width, 3),
            "offered_rate": round(counts[OFFERED_FSE] / width, 1),
            "publish_rate": round(counts[ACKED_FSE] / width, 1),
            "refused_rate": round(counts[REFUSED_FSE] / width, 1),
            "publish_error_rate": round(sum(errors(counts).values()) / width, 2),
            "errors": errors(counts),
            "classified_rate": round(counts[CLASSIFIED] / width, 1),
            "documents_rate": round(counts[DOCUMENTS_OK] / width, 1),
            "consume_rate": consume,
            "backlog": dict(window.backlog),
            "cpu_cores": cores,
            "rss_bytes": dict(window.rss_bytes),
        }
        for prefix, name in LATENCY_SERIES_MS:
            for suffix, value in latency_ms(window.histograms.get(name)).items():
                row[f"{prefix}{suffix}"] = value
        for suffix, delay in latency_us(window.histograms.get(PUBLISH_DELAY)).items():
            row[f"publishDelayLatency{suffix}"] = delay
        series.append(row)
        if window.sampled_at is not None:
            last = window
    return series


def total_backlog(row: Mapping[str, Any]) -> int | None:
    """The backlog of every group in a row; None when the window was not sampled."""
    return int(sum(row["backlog"].values())) if row["backlog"] else None
