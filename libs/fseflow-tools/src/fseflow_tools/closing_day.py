"""Which business day `fseflow clock close` closes: the one named, or `today` as the day closer
(the daily CronJob of deploy/k8s) sees it — the wall-clock date in Europe/Paris, the calendar's
time zone. The closer is the one component that reads the wall clock; the services only follow
its closures (fseflow.business_clock)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fseflow.vocabulary import calendar

PARIS = ZoneInfo("Europe/Paris")
TODAY = "today"


def _now() -> datetime:
    return datetime.now(PARIS)


def today(now: datetime | None = None) -> date:
    """The date in Europe/Paris."""
    return (now or _now()).astimezone(PARIS).date()


def day_to_close(text: str, now: datetime | None = None) -> date | None:
    """The day ``--day`` names. ``today`` on a weekend or a holiday is None (nothing to close, not
    an error: the CronJob runs every evening and the calendar decides); a named day that is not a
    business day is a ValueError, as is anything but YYYY-MM-DD or ``today``."""
    if text == TODAY:
        day = today(now)
        return day if calendar.is_business_day(day) else None
    day = calendar.parse_day(text)
    if not calendar.is_business_day(day):
        raise ValueError(f"{text} is not a business day")
    return day
