"""Offered rate over time, and the send schedule it gives (pure functions).

A profile is a list of segments over which the offered rate (FSE/s) goes linearly from one value
to another: constant and step profiles have flat segments, a ramp one sloped segment, the
national day one flat segment per compressed hour. Lot k is *intended* at the instant the
cumulated offered FSE reach the FSE of lots 0..k: the schedule never looks at answers (open
loop), so a send that starts late is still measured from this instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

SECONDS_PER_DAY = 86_400.0


class ProfileError(ValueError):
    """A profile option that cannot be: the message names the option and the reason."""


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the run
    end: float
    rate_start: float  # FSE/s at ``start``
    rate_end: float  # FSE/s at ``end``

    @property
    def fse(self) -> float:
        """FSE offered over the segment (the rate's integral)."""
        return (self.rate_start + self.rate_end) / 2 * (self.end - self.start)

    def rate_at(self, t: float) -> float:
        if self.end == self.start:
            return self.rate_start
        return self.rate_start + (self.rate_end - self.rate_start) * (t - self.start) / (
            self.end - self.start
        )

    def time_of(self, fse: float) -> float:
        """The instant the segment has offered ``fse`` FSE (0 <= fse <= self.fse)."""
        r0 = self.rate_start
        slope = (self.rate_end - r0) / (self.end - self.start)
        if slope == 0:
            return self.start + fse / r0
        # a/2 u² + r0 u - fse = 0, in the form that stays exact when the slope is tiny.
        root = math.sqrt(max(r0 * r0 + 2 * slope * fse, 0.0))
        return self.start + 2 * fse / (r0 + root)


@dataclass(frozen=True)
class Profile:
    name: str
    segments: tuple[Segment, ...]
    # Seconds of wall time one business day lasts: 86400 / compress.
    day_seconds: float
    # Step profiles: the offered rate of each step, in order (the knee is searched over them).
    steps: tuple[float, ...] = field(default=())

    @property
    def duration(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    @property
    def total_fse(self) -> float:
        return sum(s.fse for s in self.segments)

    def rate_at(self, t: float) -> float:
        for segment in self.segments:
            if segment.start <= t < segment.end:
                return segment.rate_at(t)
        return 0.0

    def day_of(self, t: float) -> int:
        """The run's business day (0, 1, ...) an instant belongs to."""
        return int(t // self.day_seconds)

    def step_of(self, t: float) -> int | None:
        """Step profiles: the step an instant belongs to."""
        if not self.steps:
            return None
        for number, segment in enumerate(self.segments):
            if segment.start <= t < segment.end:
                return number
        return len(self.segments) - 1


@dataclass(frozen=True)
class Send:
    index: int  # lot number in the run, 0-based
    at: float  # intended instant, seconds from the start of the run
    fse: int  # FSE in the lot


def schedule(
    profile: Profile, size_of: Callable[[int], int], *, until: float | None = None
) -> Iterator[Send]:
    """Every lot of the run with its intended instant, in order; ``until`` stops earlier."""
    index = 0
    target = float(size_of(0))
    offered_before = 0.0  # FSE offered by the segments already passed
    for segment in profile.segments:
        if segment.fse <= 0:
            continue
        while target <= offered_before + segment.fse:
            at = segment.time_of(target - offered_before)
            if until is not None and at >= until:
                return
            size = size_of(index)
            yield Send(index, at, size)
            index += 1
            target += size_of(index)
        offered_before += segment.fse


def slice_of(sends: Iterator[Send], worker: int, workers: int) -> Iterator[Send]:
    """The sends of one worker: every ``workers``-th lot, so each worker offers the same rate."""
    return (send for send in sends if send.index % workers == worker)


def _positive(option: str, value: float) -> float:
    if not value > 0 or math.isinf(value):
        raise ProfileError(f"{option}: must be a positive number, got {value:g}")
    return value


def day_seconds(compress: float) -> float:
    return SECONDS_PER_DAY / _positive("--compress", compress)


def constant(rate: float, duration: float, compress: float) -> Profile:
    _positive("--rate", rate)
    _positive("--duration", duration)
    return Profile("constant", (Segment(0.0, duration, rate, rate),), day_seconds(compress))


def ramp(start_rate: float, end_rate: float, duration: float, compress: float) -> Profile:
    _positive("--start-rate", start_rate)
    _positive("--max-rate", end_rate)
    _positive("--duration", duration)
    return Profile("ramp", (Segment(0.0, duration, start_rate, end_rate),), day_seconds(compress))


def step(start_rate: float, increment: float, every: float, max_rate: float, compress: float) -> Profile:
    """``start_rate``, then ``increment`` more every ``every`` seconds, up to ``max_rate``."""
    _positive("--start-rate", start_rate)
    _positive("--step", increment)
    _positive("--step-every", every)
    _positive("--max-rate", max_rate)
    if max_rate < start_rate:
        raise ProfileError(f"--max-rate: {max_rate:g} is below --start-rate {start_rate:g}")
    rates: list[float] = []
    rate = start_rate
    while rate <= max_rate * (1 + 1e-9):
        rates.append(rate)
        rate += increment
    segments = tuple(Segment(i * every, (i + 1) * every, r, r) for i, r in enumerate(rates))
    return Profile("step", segments, day_seconds(compress), steps=tuple(rates))


def piecewise(name: str, rates: Sequence[tuple[float, float]], compress: float) -> Profile:
    """Flat segments one after the other: (seconds, FSE/s) each."""
    segments = []
    start = 0.0
    for seconds, rate in rates:
        segments.append(Segment(start, start + seconds, rate, rate))
        start += seconds
    return Profile(name, tuple(segments), day_seconds(compress))
