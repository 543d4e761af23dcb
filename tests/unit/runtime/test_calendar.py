"""Business days: Monday-Friday minus French public holidays."""

from datetime import date

import pytest

from fseflow.vocabulary import calendar


@pytest.mark.parametrize(
    "holiday",
    [date(2026, 5, 25), date(2026, 7, 14), date(2026, 11, 11), date(2026, 5, 14), date(2026, 4, 6)],
    ids=["whit-monday", "14-july", "11-november", "ascension", "easter-monday"],
)
def test_public_holidays_are_not_business_days(holiday: date) -> None:
    assert calendar.is_holiday(holiday)
    assert not calendar.is_business_day(holiday)


def test_weekends_are_not_business_days() -> None:
    assert not calendar.is_business_day(date(2026, 3, 7))
    assert not calendar.is_business_day(date(2026, 3, 8))
    assert calendar.is_business_day(date(2026, 3, 9))


def test_next_business_day_skips_weekend_and_holiday() -> None:
    # Friday 22 May 2026 -> Saturday, Sunday, Whit Monday 25 -> Tuesday 26.
    assert calendar.next_business_day(date(2026, 5, 22)) == date(2026, 5, 26)
    # Monday 13 July 2026 -> 14 July is a holiday -> Wednesday 15.
    assert calendar.next_business_day(date(2026, 7, 13)) == date(2026, 7, 15)


def test_on_or_after_keeps_a_business_day() -> None:
    assert calendar.on_or_after(date(2026, 3, 2)) == date(2026, 3, 2)
    assert calendar.on_or_after(date(2026, 3, 7)) == date(2026, 3, 9)


def test_payment_four_calendar_days_later_moved_to_business_day() -> None:
    # Validated Wednesday 4 Nov 2026 -> Sunday 8 -> Monday 9.
    assert calendar.after_calendar_days(date(2026, 11, 4), 4) == date(2026, 11, 9)
    # Validated Saturday 7 Nov -> Wednesday 11 November (holiday) -> Thursday 12.
    assert calendar.after_calendar_days(date(2026, 11, 7), 4) == date(2026, 11, 12)


def test_business_days_between_inclusive() -> None:
    days = list(calendar.business_days(date(2026, 7, 10), date(2026, 7, 17)))
    assert days == [date(2026, 7, d) for d in (10, 13, 15, 16, 17)]


@pytest.mark.parametrize("text", ["2026-02-30", "20260302", "2026-3-2", "", "2026-03-02T00:00"])
def test_parse_day_is_strict(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        calendar.parse_day(text)
