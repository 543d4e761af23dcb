"""The scenario file: structural validation (every problem, with its JSON path) and parsing.

Validation is structural (docs/scenario-contract.md): JSON types, date and number formats,
references to ids only the scenario can define, and the format limits ingest's API refuses before
any ARL (string lengths, characters, lines an FSE: D35, D88). What can be wrong in real life (unknown act
code, wrong NIR key, unknown professional, empty or duplicate lot) is not a file error: it
travels through the pipeline and comes back as an ARL or a classification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from fseflow.vocabulary.calendar import parse_day
from fseflow.world import HospitalStay, Patient, Professional, WorldData

EVENT_KINDS = ("lot", "document", "decision", "correction")


def schema() -> dict[str, Any]:
    text = resources.files("fseflow_tools.replay").joinpath("scenario.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_formats = FormatChecker(formats=())


def _is_day(value: object) -> bool:
    if isinstance(value, str):
        parse_day(value)
    return True


_formats.checks("date", raises=ValueError)(_is_day)


def json_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _describe(error: ValidationError) -> str:
    value = json.dumps(error.instance, ensure_ascii=False)
    if error.validator == "format":
        return f"{value} is not a {error.validator_value!s}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{json.dumps(missing)} is required"
    if error.validator == "type":
        expected = error.validator_value
        names = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{value} is not of type {names}"
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return f"{value} is not one of {allowed}"
    if error.validator == "pattern":
        return f"{value} does not match {error.validator_value}"
    if error.validator == "anyOf":
        # optional dates / documents: report the innermost reason rather than "not valid under any"
        best = min(error.context or [], key=lambda e: len(list(e.path)), default=None)
        if best is not None and best.validator == "format":
            return _describe(best)
        return f"{value} is not valid here"
    if error.validator == "minLength":
        return f"{value} must not be empty"
    if error.validator == "exclusiveMinimum":
        return f"{value} must be greater than {error.validator_value}"
    return str(error.message)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidScenario(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the scenario")
        self.problems = problems


def _problems_with_schema(document: Any) -> list[Problem]:
    validator = Draft202012Validator(schema(), format_checker=_formats)
    problems = []
    for error in validator.iter_errors(document):
        problems.append(Problem(json_path(error.absolute_path), _describe(error)))
    return problems


def _references(document: dict[str, Any], base_dir: Path | None) -> Iterator[Problem]:
    """Checks JSON Schema cannot express: ids defined elsewhere in the file, periods, kinds."""
    world: dict[str, Any] = document["world"] if isinstance(document.get("world"), dict) else {}
    start, until = document.get("start"), document.get("until")
    try:
        if parse_day(start) > parse_day(until):
            yield Problem("until", f"{json.dumps(until)} is before start {json.dumps(start)}")
    except (ValueError, TypeError):
        pass  # already reported by the schema
    seen_ps: dict[str, int] = {}
    for i, professional in enumerate(_list(world.get("professionals"))):
        ident = professional.get("id") if isinstance(professional, dict) else None
        if isinstance(ident, str):
            if ident in seen_ps:
                yield Problem(f"world.professionals[{i}].id", f"{json.dumps(ident)} is defined twice")
            seen_ps[ident] = i
    seen_nir: set[str] = set()
    for i, patient in enumerate(_list(world.get("patients"))):
        nir = patient.get("nir") if isinstance(patient, dict) else None
        if isinstance(nir, str):
            if nir in seen_nir:
                yield Problem(f"world.patients[{i}].nir", f"{json.dumps(nir)} is defined twice")
            seen_nir.add(nir)
        for j, period in enumerate(_list(patient.get("rights")) if isinstance(patient, dict) else []):
            yield from _period(period, f"world.patients[{i}].rights[{j}]")
    for i, stay in enumerate(_list(world.get("hospital_stays"))):
        yield from _period(stay, f"world.hospital_stays[{i}]")

    events = document.get("events", [])
    if not isinstance(events, list):
        return
    fse_lots: dict[str, str] = {}  # fse id -> lot id defining it
    fse_paths: dict[str, str] = {}
    references: list[tuple[str, str]] = []
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        kinds = [k for k in EVENT_KINDS if k in event]
        if len(kinds) != 1:
            yield Problem(f"events[{i}]", f"must hold exactly one of {', '.join(EVENT_KINDS)}")
        on = event.get("on")
        try:
            day = parse_day(on)
            if not parse_day(start) <= day <= parse_day(until):
                yield Problem(f"events[{i}].on", f"{json.dumps(on)} is outside start..until")
        except (ValueError, TypeError):
            pass
        lots = []
        if isinstance(event.get("lot"), dict):
            lots.append((f"events[{i}].lot", event["lot"]))
        correction = event.get("correction")
        if isinstance(correction, dict):
            if isinstance(correction.get("lot"), dict):
                lots.append((f"events[{i}].correction.lot", correction["lot"]))
            if isinstance(correction.get("replaces"), str):
                references.append((f"events[{i}].correction.replaces", correction["replaces"]))
        for kind in ("document", "decision"):
            body = event.get(kind)
            if isinstance(body, dict) and isinstance(body.get("fse"), str):
                references.append((f"events[{i}].{kind}.fse", body["fse"]))
            if kind == "document" and isinstance(body, dict):
                yield from _pdf(body.get("pdf"), f"events[{i}].document.pdf", base_dir)
        for at, lot in lots:
            lot_id = lot.get("id")
            for j, fse in enumerate(_list(lot.get("fse"))):
                if not isinstance(fse, dict):
                    continue
                fse_at = f"{at}.fse[{j}]"
                ident = fse.get("id")
                if isinstance(ident, str):
                    # The same FSE may come again only inside a resent lot of the same id.
                    if ident in fse_lots and fse_lots[ident] != lot_id:
                        yield Problem(
                            f"{fse_at}.id",
                            f"{json.dumps(ident)} is already used at {fse_paths[ident]}",
                        )
                    fse_lots.setdefault(ident, lot_id)
                    fse_paths.setdefault(ident, fse_at)
                for k, act in enumerate(_list(fse.get("acts"))):
                    coef = act.get("coef") if isinstance(act, dict) else None
                    if (
                        isinstance(coef, int | float)
                        and not isinstance(coef, bool)
                        and not _two_decimals(coef)
                    ):
                        yield Problem(f"{fse_at}.acts[{k}].coef", f"{coef} has more than two decimals")
                attached = fse.get("document")
                if isinstance(attached, dict):
                    yield from _pdf(attached.get("pdf"), f"{fse_at}.document.pdf", base_dir)
    for at, ident in references:
        if ident not in fse_lots:
            yield Problem(at, f"{json.dumps(ident)} names no FSE of the scenario")


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list; anything else was reported by the schema."""
    return value if isinstance(value, list) else []


def _period(period: Any, at: str) -> Iterator[Problem]:
    if not isinstance(period, dict):
        return
    try:
        if parse_day(period["from"]) > parse_day(period["to"]):
            yield Problem(
                f"{at}.to",
                f"{json.dumps(period['to'])} is before from {json.dumps(period['from'])}",
            )
    except (KeyError, ValueError, TypeError):
        pass


def _pdf(path: Any, at: str, base_dir: Path | None) -> Iterator[Problem]:
    if isinstance(path, str) and base_dir is not None and not (base_dir / path).is_file():
        yield Problem(at, f"{json.dumps(path)} is not a file (paths are relative to the scenario)")


def _two_decimals(value: float) -> bool:
    try:
        return Decimal(str(value)).as_tuple().exponent >= -2  # type: ignore[operator]
    except InvalidOperation:
        return False


def validate(document: Any, base_dir: Path | None = None) -> list[Problem]:
    """Every problem of the file: schema first, then references, then ingest's limits on the lots
    it would send (edge_limits.py) — of every event the schema found well formed."""
    problems = _problems_with_schema(document)
    if not isinstance(document, dict):
        return problems
    malformed = _malformed_events(problems)
    problems += list(_references(document, base_dir))
    if malformed is not None and isinstance(document.get("events"), list):
        from fseflow_tools.replay.edge_limits import lot_problems  # ingest's protos: only when needed

        events = [e if i not in malformed else None for i, e in enumerate(document["events"])]
        problems += [Problem(path, message) for path, message in lot_problems(events)]
    return problems


_EVENT_AT = re.compile(r"^events\[(\d+)\]")


def _malformed_events(problems: list[Problem]) -> set[int] | None:
    """Indexes of the events the schema found fault with; None when it faulted the list itself."""
    malformed: set[int] = set()
    for problem in problems:
        if problem.path in ("events", "(document)"):
            return None
        if event := _EVENT_AT.match(problem.path):
            malformed.add(int(event.group(1)))
    return malformed


# -- parsed form ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    index: int
    on: date
    kind: str
    body: dict[str, Any]


@dataclass
class Scenario:
    name: str
    start: date
    until: date
    world: WorldData
    events: list[Event]
    base_dir: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def lots(self) -> Iterator[tuple[Event, dict[str, Any]]]:
        """Every lot sent, corrections included, in file order."""
        for event in self.events:
            if event.kind == "lot":
                yield event, event.body
            elif event.kind == "correction":
                yield event, event.body["lot"]


def _optional_day(value: Any) -> date | None:
    return parse_day(value) if isinstance(value, str) else None


def parse(document: dict[str, Any], base_dir: Path | None = None) -> Scenario:
    """Parse a scenario; InvalidScenario with every problem when it is not valid."""
    problems = validate(document, base_dir)
    if problems:
        raise InvalidScenario(problems)
    world = document["world"]
    data = WorldData(
        organisms=list(world.get("organisms", [])),
        professionals=[
            Professional(
                id=p["id"],
                adeli=p.get("adeli", ""),
                organism=p["organism"],
                compagnon=bool(p.get("compagnon", False)),
                scor_since=_optional_day(p.get("scor_since")),
                transmitting_since=_optional_day(p.get("transmitting_since")),
                replacing=p.get("replacing"),
            )
            for p in world.get("professionals", [])
        ],
        prescribers=list(world.get("prescribers", [])),
        patients=[
            Patient(
                nir=p["nir"],
                key=p["key"],
                organism=p["organism"],
                rights=tuple((parse_day(r["from"]), parse_day(r["to"])) for r in p["rights"]),
                ald=bool(p.get("ald", False)),
                signature_exempt=bool(p.get("signature_exempt", False)),
            )
            for p in world.get("patients", [])
        ],
        hospital_stays=[
            HospitalStay(s["nir"], parse_day(s["from"]), parse_day(s["to"]), parse_day(s["known_on"]))
            for s in world.get("hospital_stays", [])
        ],
    )
    events = [
        Event(
            i,
            parse_day(e["on"]),
            next(k for k in EVENT_KINDS if k in e),
            e[next(k for k in EVENT_KINDS if k in e)],
        )
        for i, e in enumerate(document["events"])
    ]
    return Scenario(
        name=document["name"],
        start=parse_day(document["start"]),
        until=parse_day(document["until"]),
        world=data,
        events=events,
        base_dir=base_dir,
        raw=document,
    )


def load(path: Path) -> Scenario:
    """Read and parse a scenario file; InvalidScenario when it is not JSON or not valid."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidScenario(
            [Problem(f"(line {exc.lineno}, column {exc.colno})", f"not JSON: {exc.msg}")]
        ) from exc
    return parse(document, path.parent)
