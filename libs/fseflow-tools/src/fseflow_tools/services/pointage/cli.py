"""``fseflow pointage ...``: the pôle's administration commands (registered by fseflow_tools.cli.main)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from fseflow.topics import check_organism

if TYPE_CHECKING:
    from fseflow.db import Conn

T = TypeVar("T")

app = typer.Typer(help="The departmental pôle: technicians of the console.", no_args_is_help=True)
technician_app = typer.Typer(help="Technicians who log in to the console.", no_args_is_help=True)
app.add_typer(technician_app, name="technician")
err = Console(stderr=True)
out = Console()


def _environment() -> dict[str, str]:
    values = dict(os.environ)
    if "DATABASE_URL" not in values:
        from fseflow_tools.stack import Stack

        state = Stack().running()
        if state is not None:
            values = {**state.env(), **values}
    if not values.get("DATABASE_URL"):
        err.print("[red]set DATABASE_URL (or start the embedded stack: fseflow up)")
        raise typer.Exit(2)
    return values


async def _on_database(database_url: str, work: Callable[[Conn], Awaitable[T]]) -> T:
    from fseflow.db import create_pool, migrate
    from pointage.adapters import postgres

    pool = await create_pool(database_url, max_size=1)
    try:
        await migrate(pool, "pointage", postgres.MIGRATIONS)
        async with pool.acquire() as conn:
            return await work(conn)
    finally:
        await pool.close()


def _checked_id(technician: str) -> str:
    from pointage.domain.access import check_technician_id

    try:
        return check_technician_id(technician)
    except ValueError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from None


def _password(given: str | None, from_stdin: bool) -> str:
    """--password (or FSEFLOW_TECHNICIAN_PASSWORD), --password-stdin, else a prompt on a terminal."""
    if given is not None and from_stdin:
        err.print("[red]password: give --password or --password-stdin, not both")
        raise typer.Exit(2)
    if given is not None:
        return given
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        err.print(
            "[red]password: no terminal to ask it on; give --password-stdin (one line on standard "
            "input), --password or FSEFLOW_TECHNICIAN_PASSWORD"
        )
        raise typer.Exit(2)
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@technician_app.command("add")
def add(
    technician: Annotated[str, typer.Argument(help="Technician id, e.g. t-33-01")],
    organism: Annotated[str, typer.Option(help="The technician's organism (RR-CCC), e.g. 01-331")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="FSEFLOW_TECHNICIAN_PASSWORD",
            help="The console password (8+ characters); without it, --password-stdin or a prompt",
            show_envvar=True,
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input")
    ] = False,
    certificate: Annotated[
        bool, typer.Option(help="Also issue the technician's certificate from the development CA")
    ] = True,
) -> None:
    """Create (or update) a technician; with the development PKI, issue their certificate so that
    the console reads documents from Scor with the technician's own habilitation (R14). Moving a
    technician to another organism revokes their API tokens and console sessions."""
    from pointage.adapters import access_store
    from pointage.domain.passwords import hash_password

    technician = _checked_id(technician)
    try:
        check_organism(organism)
        password_hash = hash_password(_password(password, password_stdin))
    except ValueError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    environment = _environment()
    moved = asyncio.run(
        _on_database(
            environment["DATABASE_URL"],
            lambda conn: access_store.add_technician(conn, technician, organism, password_hash),
        )
    )
    out.print(f"technician {technician} of {organism} can log in to the console")
    if moved:
        out.print(f"{technician} moved to {organism}: their former tokens and sessions are revoked")
    certs = environment.get("TECHNICIAN_CERTS_DIR")
    ca_dir = environment.get("FSEFLOW_CERTS_DIR")
    if certificate and certs and ca_dir and (Path(ca_dir) / "ca.key").exists():
        from fseflow_tools import dev_ca

        ca = dev_ca.Issued(Path(ca_dir) / "ca.crt", Path(ca_dir) / "ca.key")
        issued = dev_ca.issue(ca, Path(certs), technician, role="technician", organism=organism)
        out.print(f"certificate: {issued.cert}")
    elif certificate:
        out.print(
            "no development CA here: give the console the technician's certificate in TECHNICIAN_CERTS_DIR"
        )


@technician_app.command("token")
def token(
    technician: Annotated[str, typer.Argument(help="Technician id, e.g. t-33-01")],
    label: Annotated[str, typer.Option(help="What the token is for (kept with it)")] = "cli",
) -> None:
    """Issue an API token for an existing technician: printed once, alone on standard output
    (only its SHA-256 is kept). Use it as ``Authorization: Bearer <token>``."""
    from pointage.adapters import access_store
    from pointage.domain.access import TOKEN_PREFIX, new_secret

    technician = _checked_id(technician)
    secret, digest = new_secret(TOKEN_PREFIX)

    async def issue(conn: Conn) -> str | None:
        row = await access_store.technician(conn, technician)
        if row is None:
            return None
        await access_store.issue_token(conn, technician, digest, label)
        return str(row["organism"])

    organism = asyncio.run(_on_database(_environment()["DATABASE_URL"], issue))
    if organism is None:
        err.print(f"[red]technician: no technician {technician!r} (fseflow pointage technician add)")
        raise typer.Exit(2)
    err.print(
        f"API token of {technician} ({organism}); to revoke: fseflow pointage technician revoke {technician}"
    )
    sys.stdout.write(secret + "\n")  # alone and never wrapped: TOKEN=$(fseflow ... token ID)


@technician_app.command("revoke")
def revoke(technician: Annotated[str, typer.Argument(help="Technician id, e.g. t-33-01")]) -> None:
    """Revoke every API token of a technician and end their console sessions, on every replica."""
    from pointage.adapters import access_store

    technician = _checked_id(technician)
    tokens, sessions = asyncio.run(
        _on_database(_environment()["DATABASE_URL"], lambda conn: access_store.revoke_all(conn, technician))
    )
    out.print(f"{technician}: {tokens} token(s) revoked, {sessions} console session(s) ended")


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
    from fseflow_tools.cli.main import running_system
    from fseflow_tools.services.pointage.bench import PoleBenchConfig, run

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
