"""National reference data shipped with the repository (see data/SOURCES.md).

``load`` upserts the CSV files into the ``refdata`` schema; the services read them from there,
so an operator can update a tariff without a release.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import asyncpg

from fseflow.db import Conn, migrate

MIGRATIONS = [
    """
    CREATE SCHEMA IF NOT EXISTS refdata;
    CREATE TABLE refdata.acts (
        code text PRIMARY KEY,
        label text NOT NULL,
        tariff_cents integer NOT NULL,
        coefficients text NOT NULL,
        daily_limit_coefficient numeric,
        daily_limit_per_patient integer,
        source text NOT NULL
    );
    CREATE TABLE refdata.complements (
        code text PRIMARY KEY,
        label text NOT NULL,
        amount_cents integer NOT NULL,
        source text NOT NULL
    );
    CREATE TABLE refdata.regimes (code text PRIMARY KEY, label text NOT NULL, source text NOT NULL);
    CREATE TABLE refdata.caisses (
        regime text NOT NULL,
        caisse text NOT NULL,
        label text NOT NULL,
        computer_centre_2013 text,
        source text NOT NULL,
        PRIMARY KEY (regime, caisse)
    );
    CREATE TABLE refdata.cti (cti integer PRIMARY KEY, name text NOT NULL, city text NOT NULL);
    CREATE TABLE refdata.cti_routes (
        department text PRIMARY KEY,
        cti integer NOT NULL REFERENCES refdata.cti (cti)
    );
    """
]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("fseflow.vocabulary.refdata").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def organisms() -> tuple[tuple[str, str], ...]:
    """Every caisse shipped, as (RR-CCC, label), in file order: the organisms whose topic families
    and broker users a deployment prepares (deploy/k8s, `fseflow k8s generate`)."""
    return tuple((f"{r['regime']}-{r['caisse']}", r["label"]) for r in _rows("caisses.csv"))


def _cents(euros: str) -> int:
    return int((Decimal(euros) * 100).to_integral_exact())


@dataclass(frozen=True)
class Cti:
    number: int
    name: str
    city: str


class UnroutableOrganism(ValueError):
    pass


class CtiRouting:
    """Which of the eight national computer centres processes an organism's lots.

    Keyed by the département of the caisse: the first two digits of its three-digit code
    (331 -> 33, 201 -> 20), or the whole code overseas (971-976).
    """

    def __init__(self, centres: dict[int, Cti], routes: dict[str, int]) -> None:
        self.centres = centres
        self.routes = routes

    @classmethod
    def from_files(cls) -> CtiRouting:
        centres: dict[int, Cti] = {}
        routes: dict[str, int] = {}
        for row in _rows("cti.csv"):
            number = int(row["cti"])
            centres[number] = Cti(number, row["name"], row["city"])
            for department in row["departments"].split("|"):
                routes[department] = number
        return cls(centres, routes)

    @staticmethod
    def department_of(organism: str) -> str:
        """RR-CCC -> département key; UnroutableOrganism when malformed."""
        if len(organism) != 6 or organism[2] != "-" or not (organism[:2] + organism[3:]).isdigit():
            raise UnroutableOrganism(f"organism {organism!r} is not of the form RR-CCC")
        caisse = organism[3:]
        return caisse if caisse.startswith("97") else caisse[:2]

    def route(self, organism: str) -> int:
        department = self.department_of(organism)
        try:
            return self.routes[department]
        except KeyError:
            raise UnroutableOrganism(f"organism {organism!r}: département {department} has no CTI") from None


async def load(pool: asyncpg.Pool) -> dict[str, int]:
    """Create the schema if needed and upsert every reference file. Returns rows per table."""
    await migrate(pool, "refdata", MIGRATIONS)
    acts = [
        (
            r["code"],
            r["label"],
            _cents(r["tariff_eur"]),
            r["coefficients"],
            Decimal(r["daily_limit_coefficient"]) if r["daily_limit_coefficient"] else None,
            int(r["daily_limit_per_patient"]) if r["daily_limit_per_patient"] else None,
            r["source"],
        )
        for r in _rows("ngap_nursing_acts.csv")
    ]
    complements = [
        (r["code"], r["label"], _cents(r["amount_eur"]), r["source"]) for r in _rows("complements.csv")
    ]
    regimes = [(r["code"], r["label"], r["source"]) for r in _rows("regimes.csv")]
    caisses = [
        (r["regime"], r["caisse"], r["label"], r["computer_centre_2013"] or None, r["source"])
        for r in _rows("caisses.csv")
    ]
    routing = CtiRouting.from_files()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "TRUNCATE refdata.acts, refdata.complements, refdata.regimes, refdata.caisses, "
            "refdata.cti_routes, refdata.cti"
        )
        await conn.executemany("INSERT INTO refdata.acts VALUES ($1, $2, $3, $4, $5, $6, $7)", acts)
        await conn.executemany("INSERT INTO refdata.complements VALUES ($1, $2, $3, $4)", complements)
        await conn.executemany("INSERT INTO refdata.regimes VALUES ($1, $2, $3)", regimes)
        await conn.executemany("INSERT INTO refdata.caisses VALUES ($1, $2, $3, $4, $5)", caisses)
        await conn.executemany(
            "INSERT INTO refdata.cti VALUES ($1, $2, $3)",
            [(c.number, c.name, c.city) for c in routing.centres.values()],
        )
        await conn.executemany(
            "INSERT INTO refdata.cti_routes VALUES ($1, $2)", sorted(routing.routes.items())
        )
    return {
        "acts": len(acts),
        "complements": len(complements),
        "regimes": len(regimes),
        "caisses": len(caisses),
        "cti": len(routing.centres),
        "cti_routes": len(routing.routes),
    }


async def read_routing(conn: Conn) -> CtiRouting:
    centres = {
        r["cti"]: Cti(r["cti"], r["name"], r["city"])
        for r in await conn.fetch("SELECT cti, name, city FROM refdata.cti")
    }
    routes = {r["department"]: r["cti"] for r in await conn.fetch("SELECT * FROM refdata.cti_routes")}
    return CtiRouting(centres, routes)
