"""Each service reads and writes only its own PostgreSQL schema (and the shared reference schemas
``world`` and ``refdata``): another service's data comes through its events or its own queries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SCHEMA_OF = {
    "ingest": "ingest",
    "national-check": "national_check",
    "pointage": "pointage",
    "scor-store": "scor",
    "relances": "relances",
}
SQL_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|REFERENCES)\s+([a-z_]+)\.[a-z_]+", re.IGNORECASE)


def foreign_tables(service: str) -> list[str]:
    found = []
    for source in sorted((ROOT / "services" / service / "src").rglob("*.py")):
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            for schema in SQL_TABLE.findall(line):
                if schema in SCHEMA_OF.values() and schema != SCHEMA_OF[service]:
                    found.append(f"{source.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("service", sorted(SCHEMA_OF))
def test_a_service_reads_no_other_service_schema(service: str) -> None:
    assert foreign_tables(service) == []


def test_the_check_sees_a_foreign_read() -> None:
    assert SQL_TABLE.findall("SELECT paid_on FROM pointage.payments WHERE world = $1") == ["pointage"]
