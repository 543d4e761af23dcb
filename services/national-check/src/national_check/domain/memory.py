"""The cross-FSE memory of one batch: what the database knew, plus this batch's own verdicts.

FSE of a batch are classified in partition order, each seeing the effect of the ones before it
("counting every FSE received before it"). The database is read once per batch for every key
the batch touches; the overlay then answers, and tells the adapter what to write back.
"""

from __future__ import annotations

from datetime import date, timedelta

from national_check.domain.claims import Act

AccordKey = tuple[str, str, str, date, str]  # world, ps, nir, day, code
CountKey = tuple[str, str, date]  # world, nir, day
# An act accorded by the check counts for every FSE received after it.
ALWAYS = date.min


def decided_counts_from(decided_on: date) -> date:
    """A litigieuse decided accord on day X counts for FSE received from X + 1: the decision and
    that day's lots travel separately, so "the same day" would depend on timing."""
    return decided_on + timedelta(days=1)


class BatchMemory:
    def __init__(self, accorded: dict[AccordKey, date], ais3_counts: dict[CountKey, int]) -> None:
        # key -> first day of receipt for which the act counts as already accorded
        self._accorded = accorded
        self._counts = ais3_counts
        self.new_accorded: set[AccordKey] = set()
        self.changed_counts: dict[CountKey, int] = {}

    def view(self, world: str, received_on: date) -> WorldView:
        return WorldView(self, world, received_on)

    def add_accorded(self, world: str, ps_id: str, nir: str, acts: tuple[Act, ...]) -> None:
        for act in acts:
            key = (world, ps_id, nir, act.on, act.code)
            if self._accorded.get(key, date.max) > ALWAYS:
                self._accorded[key] = ALWAYS
                self.new_accorded.add(key)

    def counts_from(self, key: AccordKey) -> date:
        return self._accorded[key]

    def add_ais3(self, world: str, nir: str, by_day: tuple[tuple[date, int], ...]) -> None:
        for day, count in by_day:
            key = (world, nir, day)
            total = self._counts.get(key, 0) + count
            self._counts[key] = total
            self.changed_counts[key] = total


class WorldView:
    """PriorClaims for one world, backed by the batch memory."""

    __slots__ = ("_memory", "_received_on", "_world")

    def __init__(self, memory: BatchMemory, world: str, received_on: date) -> None:
        self._memory = memory
        self._world = world
        self._received_on = received_on

    def accorded(self, ps_id: str, nir: str, on: date, code: str) -> bool:
        counts_from = self._memory._accorded.get((self._world, ps_id, nir, on, code))
        return counts_from is not None and counts_from <= self._received_on

    def ais3_count(self, nir: str, on: date) -> int:
        return self._memory._counts.get((self._world, nir, on), 0)
