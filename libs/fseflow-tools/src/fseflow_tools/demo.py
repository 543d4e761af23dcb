"""A seeded, realistic scenario: the world of ``fseflow demo`` and of the load tests.

Shares come from the seeds: paper sheets are 16 % of nurses' sheets in Gironde and 10 % in
Landes; Scor is used by 73 % of Gironde nurses and 34 % nationally; the population is 84 %
régime général, 7 % MSA, 5 % RSI (seed 003). The act mix follows the 2016 UNCAM figures
(AMI 1 63 %, AMI 2 13 %, AMI 4 9 % of AMI; AIS 3 98 % of AIS). Every classification reason and
every kind of negative ARL is injected at a low rate, on purpose, so the summary shows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from fseflow.vocabulary import calendar

GIRONDE, LANDES, HAUTS_DE_SEINE = "331", "401", "921"
# Seed 000: paper is 16 % of nurses' sheets in Gironde, 10 % in Landes; Hauts-de-Seine (whose
# paper sheets Nanterre processes with Gironde's) has no figure: 13 %, between the two, a model.
PAPER_SHARE = {GIRONDE: 0.16, LANDES: 0.10, HAUTS_DE_SEINE: 0.13}
# Seed 000: Scor is used by 73 % of Gironde nurses and 34 % nationally (the others here).
SCOR_SHARE = {GIRONDE: 0.73, LANDES: 0.34, HAUTS_DE_SEINE: 0.34}
# Where the nurses and their patients are: départements of three different CTI routes.
DEPARTMENT_SHARE = ((GIRONDE, 0.6), (LANDES, 0.2), (HAUTS_DE_SEINE, 0.2))
DEGRADE_SHARE = 0.08  # share of dégradé among electronic sheets: not in the seeds, a model
REASON_RATE = 0.006  # each reason, per FSE
UNREADABLE_SHARE = 0.01  # scans Scor's quality check finds unexploitable: a model
REASONS = (
    "NIR_KEY",
    "PATIENT_UNKNOWN",
    "NO_RIGHTS",
    "PRESCRIBER_INVALID",
    "PRESCRIBER_UNKNOWN",
    "ACT_CODE_UNKNOWN",
    "COEF_INVALID",
    "ACT_IN_FUTURE",
    "REPLACEMENT_MODE",
    "DUPLICATE",
    "TOO_MANY_LINES",
    "ALD_NOT_ELIGIBLE",
    "DURING_HOSPITAL_STAY",
    "AIS3_DAILY_LIMIT",
    "SIGNATURE_NOT_EXEMPT",
    "DI_WITHOUT_PRESCRIPTION",
)


def make_nir(rng: random.Random, department: str) -> tuple[str, str]:
    """A well-formed 13-character NIR in ``department`` and its key."""
    body = (
        f"{rng.choice('12')}{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}"
        f"{department}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    )
    return body, str(stdnum_nir.calc_check_digits(body))


def make_rpps(rng: random.Random) -> str:
    stem = f"10{rng.randint(0, 99_999_999):08d}"
    return stem + str(luhn.calc_check_digit(stem))


@dataclass
class _Patient:
    nir: str
    key: str
    organism: str
    ald: bool
    exempt: bool
    rights_to: date
    dependent: bool


@dataclass
class _Professional:
    id: str
    organism: str
    department: str
    replacing: str | None
    patients: list[_Patient] = field(default_factory=list)
    billed: set[tuple[str, date]] = field(default_factory=set)


@dataclass
class DemoShape:
    seed: int = 42
    start: date = date(2026, 3, 2)
    business_days: int = 10
    professionals: int = 50
    patients: int = 2000
    fse_per_lot: tuple[int, int] = (8, 16)
    reason_rate: float = REASON_RATE


# The whole-lot problems go on the second and third business days, from the second nurse.
MIN_BUSINESS_DAYS = 3
MIN_PROFESSIONALS = 2
# Draws of a (patient, day) before a nurse is said to have run out of patients to bill: far above
# what a world with enough patients needs (one sheet per patient and day of care).
MAX_DRAWS = 10_000


class DemoTooSmall(ValueError):
    """A shape the generator cannot fill, with the option to change and why."""


def generate(shape: DemoShape | None = None) -> dict[str, Any]:
    shape = shape or DemoShape()
    if shape.business_days < MIN_BUSINESS_DAYS:
        raise DemoTooSmall(f"--days: at least {MIN_BUSINESS_DAYS}, got {shape.business_days}")
    if shape.professionals < MIN_PROFESSIONALS:
        raise DemoTooSmall(f"--professionals: at least {MIN_PROFESSIONALS}, got {shape.professionals}")
    rng = random.Random(shape.seed)  # noqa: S311 - a simulation, not cryptography
    days: list[date] = []
    day = calendar.on_or_after(shape.start)
    while len(days) < shape.business_days:
        days.append(day)
        day = calendar.next_business_day(day)
    until = days[-1]

    organisms = ["01-331", "02-331", "03-331", "01-401", "02-401", "01-921", "03-921"]
    patients: list[_Patient] = []
    for i in range(shape.patients):
        department = _department(i / shape.patients)
        roll = rng.random()
        regime = "01" if roll < 0.88 else ("02" if roll < 0.95 else "03")
        if f"{regime}-{department}" not in organisms:
            regime = "01"
        nir_dept = "2A" if rng.random() < 0.01 else department[:2]
        nir, key = make_nir(rng, nir_dept)
        expired = rng.random() < 0.01
        patients.append(
            _Patient(
                nir,
                key,
                f"{regime}-{department}",
                ald=rng.random() < 0.15,
                exempt=rng.random() < 0.03,
                rights_to=(shape.start - timedelta(days=30)) if expired else date(2030, 12, 31),
                dependent=rng.random() < 0.25,
            )
        )
    professionals: list[_Professional] = []
    for i in range(shape.professionals):
        department = _department(i / shape.professionals)
        replacing = professionals[i - 5].id if i >= 5 and i % 17 == 0 else None
        professionals.append(_Professional(f"ps-{i + 1:03d}", f"01-{department}", department, replacing))
    local = {dep: [p for p in patients if p.organism.endswith(dep)] for dep, _ in DEPARTMENT_SHARE}
    for ps in professionals:
        if not local[ps.department]:
            raise _too_few_patients(shape, ps)
        ps.patients = rng.sample(local[ps.department], k=min(50, len(local[ps.department])))
    prescribers = [make_rpps(rng) for _ in range(120)]
    directory = prescribers[:-6]  # six well-formed numbers nobody registered

    stays = []
    for patient in rng.sample(patients, k=max(1, shape.patients // 60)):
        begin = shape.start + timedelta(days=rng.randint(-10, (until - shape.start).days))
        stays.append(
            {
                "nir": patient.nir,
                "from": begin.isoformat(),
                "to": (begin + timedelta(days=rng.randint(1, 6))).isoformat(),
                "known_on": (begin - timedelta(days=1)).isoformat()
                if rng.random() < 0.6
                else (until + timedelta(days=200)).isoformat(),
            }
        )
    stay_by_nir = {s["nir"]: s for s in stays if date.fromisoformat(s["known_on"]) <= shape.start}

    events: list[dict[str, Any]] = []
    plain: dict[str, list[dict[str, Any]]] = {ps.id: [] for ps in professionals}
    counter = 0
    for lot_day in days:
        for ps in professionals:
            sheets = []
            for _ in range(rng.randint(*shape.fse_per_lot)):
                counter += 1
                sheet = _sheet(rng, shape, ps, lot_day, counter, directory, stay_by_nir)
                if ps.replacing is not None and rng.random() < 0.08:
                    reason: str | None = "REPLACEMENT_MODE"
                elif rng.random() < shape.reason_rate * len(REASONS):
                    reason = rng.choice(REASONS)
                else:
                    reason = None
                injected = reason is not None and _inject(
                    rng, reason, sheet, ps, lot_day, prescribers, plain[ps.id], stays
                )
                if not injected and ps.replacing is None:
                    plain[ps.id].append(sheet)
                sheets.append(sheet)
            lot_id = f"lot-{lot_day:%m%d}-{ps.id}"
            events.append({"on": lot_day.isoformat(), "lot": {"id": lot_id, "ps": ps.id, "fse": sheets}})
    # Whole-lot problems: unknown professional, empty lot, a lot id sent twice.
    first = events[0]["lot"]
    orphan = dict(first["fse"][0], id="fse-orphan-1")
    events.append(
        {
            "on": days[1].isoformat(),
            "lot": {"id": "lot-from-nobody", "ps": "ps-unknown", "fse": [orphan]},
        }
    )
    events.append(
        {
            "on": days[2].isoformat(),
            "lot": {"id": "lot-empty", "ps": professionals[1].id, "fse": []},
        }
    )
    events.append({"on": days[min(3, len(days) - 1)].isoformat(), "lot": first})

    return {
        "name": f"demo-seed-{shape.seed}",
        "start": shape.start.isoformat(),
        "until": until.isoformat(),
        "world": {
            "organisms": organisms,
            "professionals": [
                {
                    "id": ps.id,
                    "adeli": f"{ps.department[:2]}1{rng.randint(0, 99999):05d}{rng.randint(0, 9)}",
                    "organism": ps.organism,
                    "compagnon": rng.random() < 0.6,
                    "scor_since": (shape.start - timedelta(days=rng.randint(30, 900))).isoformat()
                    if rng.random() < SCOR_SHARE[ps.department]
                    else None,
                    "transmitting_since": (shape.start - timedelta(days=rng.randint(100, 4000))).isoformat(),
                    "replacing": ps.replacing,
                }
                for ps in professionals
            ],
            "prescribers": directory,
            "patients": [
                {
                    "nir": p.nir,
                    "key": p.key,
                    "organism": p.organism,
                    "rights": [{"from": "2015-01-01", "to": p.rights_to.isoformat()}],
                    "ald": p.ald,
                    "signature_exempt": p.exempt,
                }
                for p in patients
            ],
            "hospital_stays": stays,
        },
        "events": events,
    }


def _department(position: float) -> str:
    """The département at ``position`` (0..1) of the population, by DEPARTMENT_SHARE."""
    cumulated = 0.0
    for department, share in DEPARTMENT_SHARE:
        cumulated += share
        if position < cumulated:
            return department
    return DEPARTMENT_SHARE[-1][0]


def _mode(rng: random.Random, ps: _Professional) -> str:
    if ps.replacing is not None or rng.random() < PAPER_SHARE[ps.department]:
        return "papier"  # R21: a replacing nurse bills on the holder's paper sheet
    return "degrade" if rng.random() < DEGRADE_SHARE else "securise"


def _act(code: str, coef: float, day: date, night: bool = False) -> dict[str, Any]:
    complements = ["F"] if (day.weekday() == 6 or calendar.is_holiday(day)) else []
    if night:
        complements.append("N")
    return {"code": code, "coef": coef, "on": day.isoformat(), "complements": complements}


def _too_few_patients(shape: DemoShape, ps: _Professional) -> DemoTooSmall:
    return DemoTooSmall(
        f"--patients: {shape.patients} is too few for {shape.professionals} professionals: {ps.id} has "
        f"no patient of département {ps.department} left to bill (one sheet per patient and day of care)"
    )


def _sheet(
    rng: random.Random,
    shape: DemoShape,
    ps: _Professional,
    lot_day: date,
    number: int,
    directory: list[str],
    stays: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    # One sheet per nurse, patient and day of care (a second one would be a DUPLICATE), and no
    # accidental hospital overlap or expired rights: only injected reasons should show.
    for _ in range(MAX_DRAWS):
        patient = rng.choice(ps.patients)
        act_day = lot_day - timedelta(days=rng.randint(0, 2))
        if patient.nir in stays or patient.rights_to < shape.start or (patient.nir, act_day) in ps.billed:
            continue
        ps.billed.add((patient.nir, act_day))
        break
    else:
        raise _too_few_patients(shape, ps)
    acts: list[dict[str, Any]] = []
    if patient.dependent and rng.random() < 0.6:
        acts += [_act("AIS", 3, act_day) for _ in range(rng.randint(1, 2))]
    else:
        coef = rng.choices([1, 1.5, 2, 4], weights=[63, 10, 13, 9])[0]
        acts.append(_act("AMI", coef, act_day, night=rng.random() < 0.03))
        if coef == 1 and rng.random() < 0.2:
            acts.append(_act("MAU", 1, act_day))
    acts.append(_act("IFD", 1, act_day))
    mode = _mode(rng, ps)
    has_prescription = rng.random() < 0.9
    return {
        "id": f"fse-{number:06d}",
        "nir": patient.nir,
        "key": patient.key,
        "mode": mode,
        "prescriber": rng.choice(directory) if has_prescription else None,
        "prescribed_on": (lot_day - timedelta(days=rng.randint(3, 60))).isoformat()
        if has_prescription
        else None,
        "acts": acts,
        "ald": patient.ald and rng.random() < 0.8,
        "signature_impossible": patient.exempt and rng.random() < 0.5,
        "dsi_sent": False,
        "suite_de_soins": not has_prescription,
        "document": {
            "id": f"pj-{number:06d}",
            "kind": "fsp" if mode == "degrade" else "prescription",
            # A dark or cut-off scan now and then (R17's quality check finds them).
            "quality": "unreadable" if rng.random() < UNREADABLE_SHARE else "ok",
        },
    }


def _use_patient(sheet: dict[str, Any], patient: _Patient) -> None:
    sheet["nir"], sheet["key"] = patient.nir, patient.key


def _inject(
    rng: random.Random,
    reason: str,
    sheet: dict[str, Any],
    ps: _Professional,
    lot_day: date,
    prescribers: list[str],
    earlier_plain: list[dict[str, Any]],
    stays: list[dict[str, Any]],
) -> bool:
    """Make ``sheet`` carry ``reason``; False when this sheet cannot (it is left plain)."""
    acts = sheet["acts"]
    first_day = date.fromisoformat(acts[0]["on"])
    healthy = [p for p in ps.patients if p.rights_to >= lot_day]
    if reason == "NIR_KEY":
        sheet["key"] = f"{(int(sheet['key']) % 97) + 1:02d}"
    elif reason == "PATIENT_UNKNOWN":
        sheet["nir"], sheet["key"] = make_nir(rng, "33")
    elif reason == "NO_RIGHTS":
        expired = [p for p in ps.patients if p.rights_to < lot_day]
        if expired:
            _use_patient(sheet, rng.choice(expired))
        else:
            acts[0]["on"] = "2014-06-02"  # before every rights period
    elif reason == "PRESCRIBER_INVALID":
        good = prescribers[0]
        sheet["prescriber"] = good[:-1] + str((int(good[-1]) + 1) % 10)
    elif reason == "PRESCRIBER_UNKNOWN":
        sheet["prescriber"] = prescribers[-1]
    elif reason == "ACT_CODE_UNKNOWN":
        acts.append(_act("AMY", 1, first_day))
    elif reason == "COEF_INVALID":
        acts[0] = _act("AMI", 7, first_day)
    elif reason == "ACT_IN_FUTURE":
        acts[0]["on"] = (lot_day + timedelta(days=3)).isoformat()
    elif reason == "REPLACEMENT_MODE":
        if ps.replacing is None:
            return False
        sheet["mode"] = "securise"
    elif reason == "DUPLICATE":
        if not earlier_plain:
            return False
        earlier = rng.choice(earlier_plain[-200:])
        sheet["nir"], sheet["key"] = earlier["nir"], earlier["key"]
        acts[:] = [dict(earlier["acts"][0])]
    elif reason == "TOO_MANY_LINES":
        sheet["mode"] = "papier"
        acts.extend(_act("AMI", 1, lot_day - timedelta(days=i + 3)) for i in range(6))
    elif reason == "ALD_NOT_ELIGIBLE":
        candidates = [p for p in healthy if not p.ald]
        if not candidates:
            return False
        _use_patient(sheet, rng.choice(candidates))
        sheet["ald"] = True
    elif reason == "DURING_HOSPITAL_STAY":
        known = [s for s in stays if date.fromisoformat(s["known_on"]) <= lot_day]
        if not known:
            return False
        stay = rng.choice(known)
        sheet["nir"] = stay["nir"]
        sheet["key"] = stdnum_nir.calc_check_digits(stay["nir"])
        acts[0]["on"] = stay["from"]
    elif reason == "AIS3_DAILY_LIMIT":
        acts[:] = [_act("AIS", 3, first_day) for _ in range(5)]
    elif reason == "SIGNATURE_NOT_EXEMPT":
        candidates = [p for p in healthy if not p.exempt]
        if not candidates:
            return False
        _use_patient(sheet, rng.choice(candidates))
        sheet["signature_impossible"] = True
    elif reason == "DI_WITHOUT_PRESCRIPTION":
        sheet["prescriber"] = None
        sheet["prescribed_on"] = None
        acts.append(_act("DI", 1.2, first_day))
    return True
