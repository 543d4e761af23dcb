"""``fseflow pointage ...``: the pôle's administration commands (a ``fseflow.commands`` plugin)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fseflow.topics import check_organism

app = typer.Typer(help="The departmental pôle: technicians of the console.", no_args_is_help=True)
technician_app = typer.Typer(help="Technicians who log in to the console.", no_args_is_help=True)
app.add_typer(technician_app, name="technician")
err = Console(stderr=True)
out = Console()


def _environment() -> dict[str, str]:
    values = dict(os.environ)
    if "DATABASE_URL" not in values:
        from fseflow.stack import Stack

        state = Stack().running()
        if state is not None:
            values = {**state.env(), **values}
    if not values.get("DATABASE_URL"):
        err.print("[red]set DATABASE_URL (or start the embedded stack: fseflow up)")
        raise typer.Exit(2)
    return values


async def _add(database_url: str, technician: str, organism: str, password_hash: str) -> None:
    from fseflow.db import create_pool, migrate
    from pointage.adapters import postgres

    pool = await create_pool(database_url, max_size=1)
    try:
        await migrate(pool, "pointage", postgres.MIGRATIONS)
        async with pool.acquire() as conn:
            await postgres.add_technician(conn, technician, organism, password_hash)
    finally:
        await pool.close()


@technician_app.command("add")
def add(
    technician: Annotated[str, typer.Argument(help="Technician id, e.g. t-33-01")],
    organism: Annotated[str, typer.Option(help="The technician's organism (RR-CCC), e.g. 01-331")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    certificate: Annotated[
        bool, typer.Option(help="Also issue the technician's certificate from the development CA")
    ] = True,
) -> None:
    """Create (or update) a technician; with the development PKI, issue their certificate so that
    the console reads documents from Scor with the technician's own habilitation (R14)."""
    from pointage.domain.passwords import hash_password

    try:
        check_organism(organism)
        password_hash = hash_password(password)
    except ValueError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    environment = _environment()
    asyncio.run(_add(environment["DATABASE_URL"], technician, organism, password_hash))
    out.print(f"technician {technician} of {organism} can log in to the console")
    certs = environment.get("TECHNICIAN_CERTS_DIR")
    ca_dir = environment.get("FSEFLOW_CERTS_DIR")
    if certificate and certs and ca_dir and (Path(ca_dir) / "ca.key").exists():
        from fseflow import pki

        ca = pki.Issued(Path(ca_dir) / "ca.crt", Path(ca_dir) / "ca.key")
        issued = pki.issue(ca, Path(certs), technician, role="technician", organism=organism)
        out.print(f"certificate: {issued.cert}")
    elif certificate:
        out.print(
            "no development CA here: give the console the technician's certificate in TECHNICIAN_CERTS_DIR"
        )


@app.command("bench")
def bench(
    accords: Annotated[int, typer.Option(help="Accords of one organism validated in one action")] = 100_000,
    matches: Annotated[int, typer.Option(help="FSE (and as many documents) to match")] = 1_000_000,
    workers: Annotated[int, typer.Option(help="Intake consumers of one group (replicas)")] = 2,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path(
        "bench-pointage-results.json"
    ),
) -> None:
    """Bulk validation and matching throughput, each with the raw baseline of the same run."""
    import json

    # Imported here: the command line loads this plugin while it is itself being imported.
    from fseflow.cli.main import running_system
    from pointage.bench import PoleBenchConfig, run

    with running_system(start_if_missing=True) as system:
        figures = asyncio.run(
            run(
                system.kafka,
                system.database_url,
                PoleBenchConfig(accords=accords, matches=matches, workers=workers),
                err,
            )
        )
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")
