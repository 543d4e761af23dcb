"""What the checks know about one FSE, its patient and the past (value objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol


class Mode(StrEnum):
    SECURISE = "securise"
    DEGRADE = "degrade"
    PAPIER = "papier"


@dataclass(frozen=True, slots=True)
class Act:
    code: str
    coefficient: int  # hundredths: AMI 1.5 -> 150
    on: date
    complements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Claim:
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


@dataclass(frozen=True, slots=True)
class Beneficiary:
    organism: str
    rights: tuple[tuple[date, date], ...]
    ald: bool
    signature_exempt: bool

    def has_rights_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.rights)


@dataclass(frozen=True, slots=True)
class HospitalStay:
    start: date
    end: date
    known_on: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class PriorClaims(Protocol):
    """What earlier FSE of the same patient left behind (R23's cross-FSE controls)."""

    def accorded(self, ps_id: str, nir: str, on: date, code: str) -> bool:
        """An earlier FSE classified (or decided) accord had this act."""

    def ais3_count(self, nir: str, on: date) -> int:
        """AIS 3 acts of the patient that day in earlier FSE that were not rejected."""
