"""Retention (R12) and the quality aid (R17), on the business calendar."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, timedelta

from fseflow.vocabulary import calendar

RETENTION_MONTHS = 33
AID_DAYS = 90
AID_THRESHOLD = 0.99  # "au-dessus de 99 %": strictly more
AID_AMOUNT_CENTS = 9_000


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def purge_day(received_on: date) -> date:
    """Kept 33 months after receipt, purged on the first business day after that."""
    return calendar.next_business_day(add_months(received_on, RETENTION_MONTHS))


def aid_window(scor_since: date) -> tuple[date, date]:
    """The documents received in [start, end) count for the aid."""
    return scor_since, scor_since + timedelta(days=AID_DAYS)


def aid_day(scor_since: date) -> date:
    """scor_since + 90 days, or the next business day."""
    return calendar.on_or_after(scor_since + timedelta(days=AID_DAYS))


def aid_granted(exploitable: int, documents: int) -> bool:
    """More than 99 % exploitable; no document, no judgement, no aid."""
    return documents > 0 and exploitable / documents > AID_THRESHOLD
