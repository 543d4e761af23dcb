"""The national day: volumes, the intraday shape, and the shares lots are built with.

From the issue and the seeds (quoted in docs/load-testing.md):
- about 1 billion care sheets a year, about 5 million on a working day (issue 13);
- Scor: "utilisé par 64 % des officines, 45 % des kinésithérapeutes et 34 % des Idels, selon
  l'Uncam [...] 73 % des Idels en Gironde" (seed 000): lots carry documents at the national 34 %;
- paper sheets "16 % pour les Idels en Gironde [...] 10 % chez les Idels du département voisin
  des Landes" (seed 000) and the régimes (seed 003): the demo generator's world applies them
  (fseflow_tools.demo), and the lots come from it.

Not in the seeds, so a model (decisions.md D77): the intraday shape. The issue says most lots are
sent in the evening and at night by the professionals' software; the shape below puts 69.5 % of
the day's FSE between 18:00 and 06:00, with a peak at 20:00-22:00. Monday and month-end peaks
(the issue names them; their size is "UNCONFIRMED" in reference/domain-facts.md §6): +20 % on
Mondays, +15 % on the last business day of a month.
"""

from __future__ import annotations

from datetime import date

from fseflow.vocabulary import calendar
from fseflow_tools.load.profiles import Profile, ProfileError, Segment, day_seconds

NATIONAL_DAILY_FSE = 5_000_000
SCOR_SHARE_NATIONAL = 0.34
# Share of the day's FSE sent in each hour 00:00..23:00 (percent, summing to 100).
_HOURLY_PERCENT = (
    6.0, 5.0, 4.0, 3.0, 2.0, 2.0,  # night: the software's scheduled sends
    1.5, 1.5, 2.0, 2.5, 2.5, 2.5,  # morning rounds: little is sent
    3.0, 3.0, 3.0, 3.0, 3.0, 3.0,  # afternoon
    6.0, 8.0, 9.5, 9.5, 8.0, 6.5,  # evening: the day's sheets go out
)  # fmt: skip
INTRADAY_SHAPE = tuple(p / sum(_HOURLY_PERCENT) for p in _HOURLY_PERCENT)
MONDAY_FACTOR = 1.20
MONTH_END_FACTOR = 1.15


def day_factor(day: date) -> float:
    """The volume of ``day`` relative to an ordinary working day."""
    factor = MONDAY_FACTOR if day.weekday() == 0 else 1.0
    if calendar.next_business_day(day).month != day.month:
        factor *= MONTH_END_FACTOR
    return factor


def business_day(start: date, number: int) -> date:
    """The run's business day ``number`` (0 is ``start`` or the next business day)."""
    day = calendar.on_or_after(start)
    for _ in range(number):
        day = calendar.next_business_day(day)
    return day


def national_day(
    compress: float,
    days: int,
    start: date,
    daily_fse: float = NATIONAL_DAILY_FSE,
    shape: tuple[float, ...] = INTRADAY_SHAPE,
) -> Profile:
    """``days`` working days of ``daily_fse`` FSE (times each day's factor), each compressed
    into 86400 / ``compress`` seconds, one flat segment per hour of the shape."""
    seconds = day_seconds(compress)
    if days < 1:
        raise ProfileError(f"--days: at least 1 working day, got {days}")
    hour = seconds / len(shape)
    segments = []
    for number in range(days):
        volume = daily_fse * day_factor(business_day(start, number))
        for h, share in enumerate(shape):
            begin = number * seconds + h * hour
            rate = volume * share / hour
            segments.append(Segment(begin, begin + hour, rate, rate))
    return Profile("national-day", tuple(segments), seconds)
