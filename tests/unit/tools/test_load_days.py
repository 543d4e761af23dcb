"""Closing the run's business days: once a day's wall time is over and its lots answered."""

from __future__ import annotations

from datetime import date

from fseflow_tools.load import profiles
from fseflow_tools.load.days import DayCloser, closable

DAY_S = 10.0


def test_a_day_closes_once_over_and_answered_in_order() -> None:
    expected = {0: 5, 1: 5, 2: 5}
    assert closable(9.9, DAY_S, expected, {0: 5}, 0, 60) == []  # not over yet
    assert closable(10.0, DAY_S, expected, {0: 4}, 0, 60) == []  # a lot still in flight
    assert closable(10.0, DAY_S, expected, {0: 5}, 0, 60) == [0]
    assert closable(25.0, DAY_S, expected, {0: 5, 1: 5}, 0, 60) == [0, 1]
    # Day 1 waits for an answer: day 2, answered, waits behind it.
    assert closable(35.0, DAY_S, expected, {0: 5, 1: 4, 2: 5}, 1, 60) == []


def test_a_lost_answer_holds_a_day_only_for_the_grace_time() -> None:
    expected = {0: 5}
    assert closable(69.0, DAY_S, expected, {0: 4}, 0, 60) == []
    assert closable(70.0, DAY_S, expected, {0: 4}, 0, 60) == [0]


def test_the_last_days_close_when_sending_is_finished() -> None:
    expected = {0: 5, 1: 2}
    assert closable(12.0, DAY_S, expected, {0: 5, 1: 2}, 0, 60) == [0]
    assert closable(12.0, DAY_S, expected, {0: 5, 1: 2}, 0, 60, finished=True) == [0, 1]


async def test_the_closer_sends_each_business_day_once_in_order() -> None:
    closed: list[date] = []

    async def close(day: date) -> None:
        closed.append(day)

    profile = profiles.constant(1.0, 30.0, compress=86400 / DAY_S)
    closer = DayCloser(profile, date(2026, 3, 5), {0: 2, 1: 2, 2: 1}, close, grace_s=60)
    closer.add_answered({0: 2})
    await closer.tick(10.5)
    closer.add_answered({1: 1})
    await closer.tick(21.0)
    closer.add_answered({1: 1, 2: 1})
    await closer.tick(22.0, finished=True)
    await closer.tick(23.0, finished=True)
    # Business days: Thursday, Friday, then Monday.
    assert closed == [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9)]
    assert closer.all_closed
    assert closer.forced == []
