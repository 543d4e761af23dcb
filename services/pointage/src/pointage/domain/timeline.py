"""The pôle's calendar (replay contract, "Business calendar and timing"): pure functions of days.

- delivery: the business day after the check (J+1);
- accords: validated on their delivery day, paid 4 calendar days later (next business day if
  that is not one); a litigieuse decided accord on X: paid on X + 4;
- papier: paid 20 calendar days after receipt (and never before its validation + 4);
- pointage: a document is matched the business day after both it and its FSE are known.
"""

from __future__ import annotations

from datetime import date

from fseflow.vocabulary.calendar import after_calendar_days, next_business_day

PAY_AFTER_DAYS = 4
PAPER_PAY_AFTER_DAYS = 20
# R11: what one sheet costs the caisse to process, in cents.
COST_PAPER_CENTS = 174
COST_TRANSMITTED_CENTS = 27


def delivery_day(checked_on: date) -> date:
    return next_business_day(checked_on)


def payment_day(validated_on: date, *, paper: bool, received_on: date) -> date:
    """When an FSE validated (or decided accord) on ``validated_on`` is paid."""
    electronic = after_calendar_days(validated_on, PAY_AFTER_DAYS)
    if not paper:
        return electronic
    return max(after_calendar_days(received_on, PAPER_PAY_AFTER_DAYS), electronic)


def match_day(fse_received_on: date, document_received_on: date) -> date:
    return next_business_day(max(fse_received_on, document_received_on))


def cost_cents(*, paper: bool) -> int:
    return COST_PAPER_CENTS if paper else COST_TRANSMITTED_CENTS
