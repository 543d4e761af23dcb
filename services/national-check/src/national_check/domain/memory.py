"""The cross-FSE memory of one batch: what the database knew, plus this batch's own verdicts.

FSE of a batch are classified in partition order, each seeing the effect of the ones before it
("counting every FSE received before it"). The database is read once per batch for every key
the batch touches; the overlay then answers, and tells the adapter what to write back.
"""

from __future__ import annotations

from datetime import date

from national_check.domain.claims import Act

AccordKey = tuple[str, str, str, date, str]  # world, ps, nir, day, code
CountKey = tuple[str, str, date]  # world, nir, day


class BatchMemory:
    def __init__(self, accorded: set[AccordKey], ais3_counts: dict[CountKey, int]) -> None:
        self._accorded = accorded
        self._counts = ais3_counts
        self.new_accorded: set[AccordKey] = set()
        self.changed_counts: dict[CountKey, int] = {}

    def view(self, world: str) -> WorldView:
        return WorldView(self, world)

    def add_accorded(self, world: str, ps_id: str, nir: str, acts: tuple[Act, ...]) -> None:
        for act in acts:
            key = (world, ps_id, nir, act.on, act.code)
            if key not in self._accorded:
                self._accorded.add(key)
                self.new_accorded.add(key)

    def add_ais3(self, world: str, nir: str, by_day: tuple[tuple[date, int], ...]) -> None:
        for day, count in by_day:
            key = (world, nir, day)
            total = self._counts.get(key, 0) + count
            self._counts[key] = total
            self.changed_counts[key] = total


class WorldView:
    """PriorClaims for one world, backed by the batch memory."""

    __slots__ = ("_memory", "_world")

    def __init__(self, memory: BatchMemory, world: str) -> None:
        self._memory = memory
        self._world = world

    def accorded(self, ps_id: str, nir: str, on: date, code: str) -> bool:
        return (self._world, ps_id, nir, on, code) in self._memory._accorded

    def ais3_count(self, nir: str, on: date) -> int:
        return self._memory._counts.get((self._world, nir, on), 0)
