"""World data: the beneficiary base, professionals, prescribers and hospital stays of a world.

A world is an isolated namespace of the simulation: production runs one ("default"); each
replay loads its scenario into a world of its own, so replays never see each other's patients,
lots or counters even on a shared, long-lived cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from fseflow.db import Conn, migrate
from fseflow.settings import DEFAULT_WORLD

MIGRATIONS = [
    """
    CREATE SCHEMA IF NOT EXISTS world;
    CREATE TABLE world.worlds (
        world text PRIMARY KEY,
        name text NOT NULL,
        start_day date,
        until_day date,
        loaded_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE world.organisms (
        world text NOT NULL,
        organism text NOT NULL,
        PRIMARY KEY (world, organism)
    );
    CREATE TABLE world.professionals (
        world text NOT NULL,
        ps_id text NOT NULL,
        adeli text NOT NULL,
        organism text NOT NULL,
        compagnon boolean NOT NULL,
        scor_since date,
        transmitting_since date,
        replacing text,
        PRIMARY KEY (world, ps_id)
    );
    CREATE TABLE world.prescribers (
        world text NOT NULL,
        rpps text NOT NULL,
        PRIMARY KEY (world, rpps)
    );
    CREATE TABLE world.patients (
        world text NOT NULL,
        nir text NOT NULL,
        nir_key text NOT NULL,
        organism text NOT NULL,
        ald boolean NOT NULL,
        signature_exempt boolean NOT NULL,
        rights_from date[] NOT NULL,
        rights_to date[] NOT NULL,
        PRIMARY KEY (world, nir)
    );
    CREATE TABLE world.hospital_stays (
        world text NOT NULL,
        nir text NOT NULL,
        stay_from date NOT NULL,
        stay_to date NOT NULL,
        known_on date NOT NULL
    );
    CREATE INDEX hospital_stays_by_patient ON world.hospital_stays (world, nir);
    """
]

_TABLES = ("organisms", "professionals", "prescribers", "patients", "hospital_stays")


@dataclass(frozen=True)
class Professional:
    id: str
    adeli: str
    organism: str
    compagnon: bool = False
    scor_since: date | None = None
    transmitting_since: date | None = None
    replacing: str | None = None


@dataclass(frozen=True)
class Patient:
    nir: str
    key: str
    organism: str
    rights: tuple[tuple[date, date], ...]
    ald: bool = False
    signature_exempt: bool = False


@dataclass(frozen=True)
class HospitalStay:
    nir: str
    start: date
    end: date
    known_on: date


@dataclass
class WorldData:
    organisms: list[str] = field(default_factory=list)
    professionals: list[Professional] = field(default_factory=list)
    prescribers: list[str] = field(default_factory=list)
    patients: list[Patient] = field(default_factory=list)
    hospital_stays: list[HospitalStay] = field(default_factory=list)


async def ensure_schema(pool: asyncpg.Pool) -> None:
    await migrate(pool, "world", MIGRATIONS)


async def load(
    pool: asyncpg.Pool,
    world: str,
    data: WorldData,
    *,
    name: str = "",
    start: date | None = None,
    until: date | None = None,
) -> None:
    """Replace everything known about ``world`` with ``data`` (one transaction)."""
    await ensure_schema(pool)
    async with pool.acquire() as conn, conn.transaction():
        for table in _TABLES:
            await conn.execute(f"DELETE FROM world.{table} WHERE world = $1", world)
        await conn.execute(
            """
            INSERT INTO world.worlds (world, name, start_day, until_day) VALUES ($1, $2, $3, $4)
            ON CONFLICT (world) DO UPDATE SET name = EXCLUDED.name, start_day = EXCLUDED.start_day,
                until_day = EXCLUDED.until_day, loaded_at = now()
            """,
            world,
            name or world,
            start,
            until,
        )
        await conn.copy_records_to_table(
            "organisms",
            schema_name="world",
            records=[(world, o) for o in sorted(set(data.organisms))],
        )
        await conn.copy_records_to_table(
            "professionals",
            schema_name="world",
            columns=(
                "world",
                "ps_id",
                "adeli",
                "organism",
                "compagnon",
                "scor_since",
                "transmitting_since",
                "replacing",
            ),
            records=[
                (
                    world,
                    p.id,
                    p.adeli,
                    p.organism,
                    p.compagnon,
                    p.scor_since,
                    p.transmitting_since,
                    p.replacing,
                )
                for p in data.professionals
            ],
        )
        await conn.copy_records_to_table(
            "prescribers",
            schema_name="world",
            records=[(world, r) for r in sorted(set(data.prescribers))],
        )
        await conn.copy_records_to_table(
            "patients",
            schema_name="world",
            columns=(
                "world",
                "nir",
                "nir_key",
                "organism",
                "ald",
                "signature_exempt",
                "rights_from",
                "rights_to",
            ),
            records=[
                (
                    world,
                    p.nir,
                    p.key,
                    p.organism,
                    p.ald,
                    p.signature_exempt,
                    [r[0] for r in p.rights],
                    [r[1] for r in p.rights],
                )
                for p in data.patients
            ],
        )
        await conn.copy_records_to_table(
            "hospital_stays",
            schema_name="world",
            columns=("world", "nir", "stay_from", "stay_to", "known_on"),
            records=[(world, s.nir, s.start, s.end, s.known_on) for s in data.hospital_stays],
        )


async def start_day(conn: Conn, world: str) -> date | None:
    value = await conn.fetchval("SELECT start_day FROM world.worlds WHERE world = $1", world)
    return value if isinstance(value, date) else None


async def latest_world_of(conn: Conn, ps_id: str) -> str | None:
    """The world a professional was last loaded in (by a replay), if any."""
    value = await conn.fetchval(
        """
        SELECT w.world FROM world.worlds w JOIN world.professionals p ON p.world = w.world
        WHERE p.ps_id = $1 ORDER BY w.loaded_at DESC LIMIT 1
        """,
        ps_id,
    )
    return value if isinstance(value, str) else None


class UnknownWorld(ValueError):
    pass


async def check_known(database_url: str, world: str) -> None:
    """UnknownWorld, naming the latest worlds, unless ``world`` was loaded by a replay or received
    a lot. The default world (what is sent without one) always exists."""
    if world == DEFAULT_WORLD:
        return
    conn = await asyncpg.connect(database_url)
    try:
        sources = [
            f"SELECT world, {at} AS at FROM {table}"
            for table, at in (("world.worlds", "loaded_at"), ("ingest.lots", "received_at"))
            if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
        ]
        union = " UNION ALL ".join(sources) or "SELECT NULL::text AS world, NULL::timestamptz AS at"
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM ({union}) s WHERE world = $1)", world):
            return
        rows = await conn.fetch(f"SELECT world FROM ({union}) s GROUP BY world ORDER BY max(at) DESC LIMIT 5")
    finally:
        await conn.close()
    latest = ", ".join(row["world"] for row in rows) or "none yet"
    raise UnknownWorld(
        f"--world {world!r}: this world has never been seen (no replay loaded it, no lot was sent "
        f"in it); latest worlds: {latest}"
    )
