"""PostgreSQL side of national-check: reference bases and the durable cross-FSE state.

Everything for a batch is read in a handful of set-based queries and written back the same way,
in the transaction that also records which events the batch handled (idempotency).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from fseflow.db import Conn
from fseflow.idempotency import outputs_table_ddl
from national_check.domain.claims import Beneficiary, HospitalStay
from national_check.domain.memory import AccordKey, BatchMemory, CountKey
from national_check.domain.nomenclature import (
    ActDefinition,
    CoefficientRule,
    DailyLimit,
    Nomenclature,
)

VERDICTS = "national_check.verdicts"

MIGRATIONS = [
    "CREATE SCHEMA IF NOT EXISTS national_check;"
    + outputs_table_ddl(VERDICTS)
    + """;
    CREATE TABLE national_check.accorded_acts (
        world text NOT NULL,
        ps_id text NOT NULL,
        nir text NOT NULL,
        act_on date NOT NULL,
        code text NOT NULL,
        PRIMARY KEY (world, ps_id, nir, act_on, code)
    );
    CREATE TABLE national_check.ais3_daily (
        world text NOT NULL,
        nir text NOT NULL,
        day date NOT NULL,
        count integer NOT NULL,
        PRIMARY KEY (world, nir, day)
    );
    """,
    # A litigieuse decided accord counts for later duplicates only from the day after the decision.
    """
    ALTER TABLE national_check.accorded_acts ADD COLUMN counts_from date NOT NULL DEFAULT '0001-01-01';
    """,
    # Dead-lettered events are no longer recorded as handled (an empty output): a redrive of one
    # after a fix must be classified, not skipped as a redelivery (D46).
    """
    DELETE FROM national_check.verdicts WHERE output = ''::bytea;
    """,
]

PatientKey = tuple[str, str]  # world, nir


async def read_nomenclature(conn: Conn) -> Nomenclature:
    acts: dict[str, ActDefinition] = {}
    limit: DailyLimit | None = None
    for row in await conn.fetch("SELECT * FROM refdata.acts"):
        acts[row["code"]] = ActDefinition(
            row["code"], row["tariff_cents"], CoefficientRule.parse(row["coefficients"])
        )
        if row["daily_limit_per_patient"] is not None:
            limit = DailyLimit(
                row["code"],
                int(row["daily_limit_coefficient"] * 100),
                row["daily_limit_per_patient"],
            )
    if limit is None:
        raise LookupError("refdata.acts carries no daily limit (the AIS 3 limit): reload refdata")
    complements = {
        r["code"]: r["amount_cents"] for r in await conn.fetch("SELECT * FROM refdata.complements")
    }
    return Nomenclature(acts, complements, limit)


async def beneficiaries(conn: Conn, keys: Iterable[PatientKey]) -> dict[PatientKey, Beneficiary]:
    worlds, nirs = _columns(keys, 2)
    rows = await conn.fetch(
        """
        SELECT p.world, p.nir, p.organism, p.ald, p.signature_exempt, p.rights_from, p.rights_to
        FROM world.patients p
        JOIN unnest($1::text[], $2::text[]) AS k(world, nir) ON p.world = k.world AND p.nir = k.nir
        """,
        worlds,
        nirs,
    )
    return {
        (r["world"], r["nir"]): Beneficiary(
            r["organism"],
            tuple(zip(r["rights_from"], r["rights_to"], strict=True)),
            r["ald"],
            r["signature_exempt"],
        )
        for r in rows
    }


async def hospital_stays(conn: Conn, keys: Iterable[PatientKey]) -> dict[PatientKey, list[HospitalStay]]:
    worlds, nirs = _columns(keys, 2)
    rows = await conn.fetch(
        """
        SELECT s.world, s.nir, s.stay_from, s.stay_to, s.known_on
        FROM world.hospital_stays s
        JOIN unnest($1::text[], $2::text[]) AS k(world, nir) ON s.world = k.world AND s.nir = k.nir
        """,
        worlds,
        nirs,
    )
    stays: dict[PatientKey, list[HospitalStay]] = {}
    for r in rows:
        stays.setdefault((r["world"], r["nir"]), []).append(
            HospitalStay(r["stay_from"], r["stay_to"], r["known_on"])
        )
    return stays


async def known_prescribers(conn: Conn, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    worlds, numbers = _columns(keys, 2)
    rows = await conn.fetch(
        """
        SELECT p.world, p.rpps FROM world.prescribers p
        JOIN unnest($1::text[], $2::text[]) AS k(world, rpps)
          ON p.world = k.world AND p.rpps = k.rpps
        """,
        worlds,
        numbers,
    )
    return {(r["world"], r["rpps"]) for r in rows}


async def batch_memory(conn: Conn, acts: Iterable[AccordKey], ais3_days: Iterable[CountKey]) -> BatchMemory:
    """The cross-FSE state for exactly the keys this batch touches."""
    act_keys = set(acts)
    accorded: dict[AccordKey, date] = {}
    if act_keys:
        worlds, pss, nirs, days, codes = _columns(act_keys, 5)
        rows = await conn.fetch(
            """
            SELECT a.world, a.ps_id, a.nir, a.act_on, a.code, a.counts_from
            FROM national_check.accorded_acts a
            JOIN unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[])
                AS k(world, ps_id, nir, act_on, code)
              ON a.world = k.world AND a.ps_id = k.ps_id AND a.nir = k.nir
             AND a.act_on = k.act_on AND a.code = k.code
            """,
            worlds,
            pss,
            nirs,
            days,
            codes,
        )
        accorded = {
            (r["world"], r["ps_id"], r["nir"], r["act_on"], r["code"]): r["counts_from"] for r in rows
        }
    counts: dict[CountKey, int] = {}
    day_keys = set(ais3_days)
    if day_keys:
        worlds, nirs, days = _columns(day_keys, 3)
        rows = await conn.fetch(
            """
            SELECT c.world, c.nir, c.day, c.count FROM national_check.ais3_daily c
            JOIN unnest($1::text[], $2::text[], $3::date[]) AS k(world, nir, day)
              ON c.world = k.world AND c.nir = k.nir AND c.day = k.day
            """,
            worlds,
            nirs,
            days,
        )
        counts = {(r["world"], r["nir"], r["day"]): r["count"] for r in rows}
    return BatchMemory(accorded, counts)


async def save_accorded(conn: Conn, acts: Iterable[tuple[AccordKey, date]]) -> None:
    """Upsert accorded acts; an act keeps the earliest day from which it counts."""
    # One row per act: an upsert may not touch a row twice in one statement.
    earliest: dict[AccordKey, date] = {}
    for key, day in acts:
        earliest[key] = min(day, earliest.get(key, day))
    rows = [(*key, day) for key, day in earliest.items()]
    if not rows:
        return
    worlds, pss, nirs, days, codes, counts_from = _columns(rows, 6)
    await conn.execute(
        """
        INSERT INTO national_check.accorded_acts (world, ps_id, nir, act_on, code, counts_from)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::date[])
        ON CONFLICT (world, ps_id, nir, act_on, code)
        DO UPDATE SET counts_from = LEAST(accorded_acts.counts_from, EXCLUDED.counts_from)
        """,
        worlds,
        pss,
        nirs,
        days,
        codes,
        counts_from,
    )


async def save_memory(conn: Conn, memory: BatchMemory) -> None:
    await save_accorded(conn, ((key, memory.counts_from(key)) for key in memory.new_accorded))
    if memory.changed_counts:
        keys = list(memory.changed_counts)
        worlds, nirs, days = _columns(keys, 3)
        await conn.execute(
            """
            INSERT INTO national_check.ais3_daily (world, nir, day, count)
            SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int[])
            ON CONFLICT (world, nir, day) DO UPDATE SET count = EXCLUDED.count
            """,
            worlds,
            nirs,
            days,
            [memory.changed_counts[k] for k in keys],
        )


def _columns(rows: Iterable[tuple[object, ...]], width: int) -> list[list[object]]:
    columns: list[list[object]] = [[] for _ in range(width)]
    for row in rows:
        for i, value in enumerate(row):
            columns[i].append(value)
    return columns
