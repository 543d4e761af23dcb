"""The nursing act nomenclature as the checks use it (loaded from the refdata schema)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CoefficientRule:
    """Allowed coefficients, in hundredths: a finite set, or every whole number in a range."""

    values: frozenset[int] = frozenset()
    whole_range: tuple[int, int] | None = None

    @classmethod
    def parse(cls, spec: str) -> CoefficientRule:
        """ "1|1.5|2" -> {100, 150, 200}; "1..300" -> every whole number from 1 to 300."""
        if ".." in spec:
            low, high = spec.split("..")
            return cls(whole_range=(int(low), int(high)))
        return cls(values=frozenset(round(float(v) * 100) for v in spec.split("|")))

    def allows(self, hundredths: int) -> bool:
        if self.whole_range is not None:
            low, high = self.whole_range
            return hundredths % 100 == 0 and low <= hundredths // 100 <= high
        return hundredths in self.values


@dataclass(frozen=True, slots=True)
class ActDefinition:
    code: str
    tariff_cents: int
    coefficients: CoefficientRule


@dataclass(frozen=True, slots=True)
class DailyLimit:
    """At most ``per_patient`` acts of ``code`` with ``coefficient`` per patient per day."""

    code: str
    coefficient: int
    per_patient: int


@dataclass(frozen=True)
class Nomenclature:
    acts: dict[str, ActDefinition]
    complements: dict[str, int]
    ais3_limit: DailyLimit

    def is_limited(self, code: str, coefficient: int) -> bool:
        return code == self.ais3_limit.code and coefficient == self.ais3_limit.coefficient
