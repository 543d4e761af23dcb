"""The professionals' aids (R22): 100 € with the payment of their first FSE ever, 300 € on the
first business day of a year when at least 70 % of their acts of the year just closed were sent
electronically (sécurisé or dégradé), counted in acts, not sheets."""

from __future__ import annotations

from datetime import date

from fseflow.vocabulary.calendar import on_or_after

FIRST_FSE = "first-fse-100"
FIRST_FSE_CENTS = 10_000
TELETRANSMISSION = "teletransmission-300"
TELETRANSMISSION_CENTS = 30_000
TELETRANSMISSION_SHARE = 0.70


def first_fse_in_world(transmitting_since: date | None, world_start: date | None) -> bool:
    """Whether the professional's first FSE ever is one of this world's (contract:
    ``transmitting_since`` null means the first FSE of the scenario is their first)."""
    if transmitting_since is None:
        return True
    return world_start is not None and transmitting_since >= world_start


def is_first_business_day_of_year(day: date) -> bool:
    return day == on_or_after(date(day.year, 1, 1))


def earns_teletransmission_aid(electronic_acts: int, all_acts: int) -> bool:
    # Integers: 70 % exactly qualifies, without floating-point doubt.
    return all_acts > 0 and electronic_acts * 100 >= all_acts * round(TELETRANSMISSION_SHARE * 100)
