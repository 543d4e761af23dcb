"""What the checks know about one FSE, its patient and the past (value objects)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import NamedTuple, Protocol


class Mode(StrEnum):
    SECURISE = "securise"
    DEGRADE = "degrade"
    PAPIER = "papier"


class Act(NamedTuple):
    code: str
    coefficient: int  # hundredths: AMI 1.5 -> 150
    on: date
    complements: tuple[str, ...] = ()


class Claim(NamedTuple):
    """One FSE as received by the CTI."""

    fse_id: str
    ps_id: str
    ps_is_replacing: bool
    nir: str
    nir_key: str
    mode: Mode
    prescriber: str
    acts: tuple[Act, ...]
    ald: bool
    signature_impossible: bool
    received_on: date


class Beneficiary(NamedTuple):
    organism: str
    rights: tuple[tuple[date, date], ...]
    ald: bool
    signature_exempt: bool

    def has_rights_on(self, day: date) -> bool:
        for start, end in self.rights:  # noqa: SIM110 - a loop: any() over a generator is slower here
            if start <= day <= end:
                return True
        return False


class HospitalStay(NamedTuple):
    start: date
    end: date
    known_on: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


# Value objects built for every FSE are named tuples: immutable, and cheap to build.


class PriorClaims(Protocol):
    """What earlier FSE of the same patient left behind (R23's cross-FSE controls)."""

    def accorded(self, ps_id: str, nir: str, on: date, code: str) -> bool:
        """An earlier FSE classified (or decided) accord had this act."""

    def ais3_count(self, nir: str, on: date) -> int:
        """AIS 3 acts of the patient that day in earlier FSE that were not rejected."""
