"""The relances (R13) as pure functions of days: the contract's "Business calendar and timing".

Counted in calendar days from the payment day J0 of an FSE whose document is missing: J30
deadline (overdue), J45 reminder, J75 notice of undue payment (indu), J135 recovery by offset on
the professional's first payment on or after it. A step that falls on a non-business day happens
on the next business day. A document matched by a step's day cancels that step and every later
one, including a notified indu (its recovery is then cancelled by the pôle, which pays).

Hospital stays learned late: an FSE already paid with an act inside the stay gets an indu on the
day the stay becomes known, if that is at most 365 days after the act; recovered 60 days later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from fseflow.vocabulary.calendar import after_calendar_days, on_or_after

RECOVERY_AFTER_DAYS = 135
HOSPITAL_WINDOW_DAYS = 365
HOSPITAL_RECOVERY_AFTER_DAYS = 60


class Step(IntEnum):
    OVERDUE = 1
    REMINDER = 2
    INDU = 3


STEP_DAYS = {Step.OVERDUE: 30, Step.REMINDER: 45, Step.INDU: 75}


def due_day(paid_on: date, step: Step) -> date:
    return after_calendar_days(paid_on, STEP_DAYS[step])


def recovery_day(paid_on: date) -> date:
    return after_calendar_days(paid_on, RECOVERY_AFTER_DAYS)


def cancelled(matched_on: date | None, due_on: date) -> bool:
    """A document matched by the step's day (that morning's pointage) cancels it."""
    return matched_on is not None and matched_on <= due_on


@dataclass(frozen=True)
class Firing:
    """What closing a day does to one open deadline."""

    fired: Step | None  # the step that happens today, None when cancelled
    next_step: Step | None
    next_due: date | None


def fire(step: Step, due_on: date, paid_on: date, matched_on: date | None) -> Firing:
    if cancelled(matched_on, due_on):
        return Firing(None, None, None)
    if step is Step.INDU:
        return Firing(step, None, None)  # the recovery is ordered; the pôle applies it
    following = Step(step + 1)
    return Firing(step, following, due_day(paid_on, following))


def hospital_indu_applies(act_on: date, known_on: date) -> bool:
    """Within 365 days of the act; beyond, nothing happens."""
    return act_on <= known_on and (known_on - act_on).days <= HOSPITAL_WINDOW_DAYS


def hospital_days(known_on: date) -> tuple[date, date]:
    """(indu day, recovery day) for a stay that becomes known on ``known_on``."""
    return on_or_after(known_on), after_calendar_days(known_on, HOSPITAL_RECOVERY_AFTER_DAYS)
