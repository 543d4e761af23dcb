"""The business calendar: Monday to Friday except French public holidays (metropolitan list).

Pure functions of dates; the current day always comes from events (the business clock), never
from the wall clock. Holidays come from the ``holidays`` package (France, no subdivision: the
eleven national days, Whit Monday included).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache

import holidays

_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year).keys())


def is_holiday(day: date) -> bool:
    return day in _holidays_of(day.year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def on_or_after(day: date) -> date:
    """The day itself if it is a business day, else the next one."""
    while not is_business_day(day):
        day += _ONE_DAY
    return day


def next_business_day(day: date) -> date:
    """The first business day strictly after ``day`` (J+1 of the contract)."""
    return on_or_after(day + _ONE_DAY)


def previous_business_day(day: date) -> date:
    """The last business day strictly before ``day``."""
    day -= _ONE_DAY
    while not is_business_day(day):
        day -= _ONE_DAY
    return day


def after_calendar_days(day: date, days: int) -> date:
    """``day`` + ``days`` calendar days, moved to the next business day if it is not one."""
    return on_or_after(day + timedelta(days=days))


def business_days(start: date, until: date) -> Iterator[date]:
    """Every business day from ``start`` to ``until``, both included."""
    day = start
    while day <= until:
        if is_business_day(day):
            yield day
        day += _ONE_DAY


@lru_cache(maxsize=8192)
def parse_day(text: str) -> date:
    """A YYYY-MM-DD day; ValueError otherwise (date.fromisoformat also takes other forms)."""
    if not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
