"""The load profiles and their send schedule: what is offered, when, by which worker."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from fseflow_tools.load import national, profiles
from fseflow_tools.load.profiles import ProfileError, schedule, slice_of


def test_a_constant_profile_sends_each_lot_when_its_fse_are_due() -> None:
    profile = profiles.constant(100.0, 10.0, compress=200)
    sends = list(schedule(profile, lambda _index: 10))
    # 100 FSE/s in lots of 10 for 10 s: a lot every 0.1 s, the first once its 10 FSE are due.
    assert len(sends) == 100
    assert sends[0].at == pytest.approx(0.1)
    assert all(b.at - a.at == pytest.approx(0.1) for a, b in pairwise(sends))
    assert sum(s.fse for s in sends) == 1000


def test_lots_of_varying_size_are_spaced_by_their_own_fse() -> None:
    sizes = [5, 15]
    sends = list(schedule(profiles.constant(50.0, 2.0, 200), lambda i: sizes[i % 2]))
    # Lot 0 is due at 5/50 s, lot 1 at 20/50 s, lot 2 at 25/50 s...
    assert [round(s.at, 6) for s in sends[:4]] == [0.1, 0.4, 0.5, 0.8]
    assert sum(s.fse for s in sends) <= 100


def test_a_ramp_offers_the_integral_of_its_rate() -> None:
    profile = profiles.ramp(0.001, 200.0, 20.0, 200)
    sends = list(schedule(profile, lambda _i: 1))
    # ∫ rate = (0 + 200) / 2 × 20 = 2000 FSE; by t = 10 s a quarter of them (the rate is linear).
    assert len(sends) == pytest.approx(2000, abs=1)
    assert sum(1 for s in sends if s.at < 10.0) == pytest.approx(500, abs=2)
    assert all(a.at < b.at for a, b in pairwise(sends))


def test_a_step_profile_raises_the_rate_every_interval_up_to_the_maximum() -> None:
    profile = profiles.step(100.0, 50.0, 30.0, 300.0, 200)
    assert profile.steps == (100.0, 150.0, 200.0, 250.0, 300.0)
    assert profile.duration == 150.0
    sends = list(schedule(profile, lambda _i: 10))
    per_step = [sum(s.fse for s in sends if n * 30 <= s.at < (n + 1) * 30) for n in range(5)]
    assert per_step == pytest.approx([3000, 4500, 6000, 7500, 9000], abs=10)
    assert profile.step_of(31.0) == 1


def test_workers_share_the_schedule_without_overlap_and_at_the_same_rate() -> None:
    profile = profiles.constant(1000.0, 5.0, 200)
    every = list(schedule(profile, lambda _i: 10))
    slices = [list(slice_of(schedule(profile, lambda _i: 10), n, 3)) for n in range(3)]
    assert sorted(s.index for part in slices for s in part) == [s.index for s in every]
    assert max(len(p) for p in slices) - min(len(p) for p in slices) <= 1


def test_business_days_follow_the_compression() -> None:
    profile = profiles.constant(10.0, 1000.0, compress=200)  # a day lasts 432 s
    assert profile.day_seconds == 432.0
    assert [profile.day_of(t) for t in (0, 431.9, 432.0, 900)] == [0, 0, 1, 2]


def test_the_national_day_offers_its_volume_mostly_in_the_evening_and_at_night() -> None:
    start = date(2026, 3, 3)  # a Tuesday, not the end of a month
    profile = national.national_day(200, 1, start)
    assert profile.total_fse == pytest.approx(national.NATIONAL_DAILY_FSE)
    hour = profile.day_seconds / 24
    evening_and_night = sum(s.fse for s in profile.segments if s.start >= 18 * hour or s.start < 6 * hour)
    assert evening_and_night / profile.total_fse == pytest.approx(0.695, abs=0.01)
    # Compressed 200 times: 5 M FSE in 432 s, peaking at 9.5 % of them in one 18-s hour.
    assert max(s.rate_start for s in profile.segments) == pytest.approx(
        national.NATIONAL_DAILY_FSE * max(national.INTRADAY_SHAPE) / hour
    )


def test_mondays_and_month_ends_carry_more() -> None:
    assert national.day_factor(date(2026, 3, 2)) == national.MONDAY_FACTOR  # a Monday
    assert national.day_factor(date(2026, 3, 31)) == national.MONTH_END_FACTOR  # last business day
    assert national.day_factor(date(2026, 3, 4)) == 1.0
    two_days = national.national_day(200, 2, date(2026, 3, 2))
    assert two_days.total_fse == pytest.approx(national.NATIONAL_DAILY_FSE * (1.2 + 1.0))
    assert national.business_day(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday -> Monday


@pytest.mark.parametrize(
    ("build", "option"),
    [
        (lambda: profiles.constant(0, 10, 200), "--rate"),
        (lambda: profiles.constant(10, -1, 200), "--duration"),
        (lambda: profiles.constant(10, 10, 0), "--compress"),
        (lambda: profiles.step(100, 0, 10, 200, 200), "--step"),
        (lambda: profiles.step(300, 10, 10, 200, 200), "--max-rate"),
        (lambda: national.national_day(200, 0, date(2026, 3, 2)), "--days"),
    ],
)
def test_an_impossible_profile_is_refused_naming_the_option(build, option: str) -> None:
    with pytest.raises(ProfileError, match=f"^{option}:"):
        build()
