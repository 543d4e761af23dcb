"""``fseflow scor ...``: operator commands of the document store (registered by
fseflow_tools.cli.main: the tools import the services, never the other way)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The Scor document store (R14): integrity checks and repairs.", no_args_is_help=True)
err = Console(stderr=True)

EXIT_DEGRADED = 1
EXIT_LOST = 3


def _environment() -> dict[str, str]:
    """The environment, completed from the running embedded stack when it is the target."""
    values = dict(os.environ)
    if "DATABASE_URL" not in values or "SCOR_SUPPORT_DIRS" not in values:
        from fseflow_tools.stack import Stack

        state = Stack().running()
        if state is not None:
            values = {**state.env(), **{k: v for k, v in values.items() if k.startswith("SCOR_")}}
    missing = [k for k in ("DATABASE_URL", "SCOR_SUPPORT_DIRS", "SCOR_SEAL_KEY_FILE") if not values.get(k)]
    if missing:
        err.print(f"[red]set {', '.join(missing)} (or start the embedded stack)")
        raise typer.Exit(2)
    return values


async def _fsck(environment: dict[str, str], repair: bool) -> list[dict[str, Any]]:
    from fseflow.db import create_pool
    from scor_store.adapters.postgres import Documents
    from scor_store.adapters.vault import Support, Vault

    seal_key = bytes.fromhex(
        (await asyncio.to_thread(Path(environment["SCOR_SEAL_KEY_FILE"]).read_text)).strip()
    )
    supports = [
        Support(Path(d.strip()), fsync=True) for d in environment["SCOR_SUPPORT_DIRS"].split(",") if d.strip()
    ]
    vault = Vault(supports, seal_key)
    pool = await create_pool(environment["DATABASE_URL"], max_size=2)
    report = []
    try:
        for row in await Documents(pool).all():
            inspect = vault.repair if repair else vault.inspect
            before = vault.inspect(row.world, row.document_id, row.layout) if repair else None
            after = await asyncio.to_thread(inspect, row.world, row.document_id, row.layout)
            broken = {f"{s}:{p}": state for (s, p), state in sorted(after.states.items()) if state != "ok"}
            entry: dict[str, Any] = {
                "world": row.world,
                "document": row.document_id,
                "fse": row.fse_id,
                "health": after.health,
                "good_distinct_pieces": len(after.good),
                "seal_ok": after.seal_ok,
                "broken_pieces": broken,
            }
            if before is not None and before.health != after.health:
                entry["repaired_from"] = before.health
            report.append(entry)
    finally:
        await pool.close()
        vault.close()
    return report


@app.command()
def fsck(
    repair: Annotated[
        bool, typer.Option(help="Rebuild missing or corrupt pieces from six good ones")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout")] = False,
) -> None:
    """Check every stored document: each piece on both supports, and the seal.

    Exit 0 when every document is whole, 1 when some are degraded (readable, redundancy lost),
    3 when some are lost (fewer than six good pieces, or the seal does not hold).
    """
    report = asyncio.run(_fsck(_environment(), repair))
    counts = {h: sum(1 for e in report if e["health"] == h) for h in ("ok", "degraded", "lost")}
    repaired = sum(1 for e in report if "repaired_from" in e)
    if as_json:
        typer.echo(json.dumps({"documents": report, "summary": {**counts, "repaired": repaired}}, indent=2))
    else:
        table = Table(title="Scor fsck")
        for column in ("world", "document", "health", "good pieces", "seal", "broken (support:piece)"):
            table.add_column(column)
        for entry in report:
            if entry["health"] != "ok" or "repaired_from" in entry:
                broken = ", ".join(f"{k} {v}" for k, v in entry["broken_pieces"].items()) or "-"
                health = entry["health"] + (
                    f" (was {entry['repaired_from']})" if "repaired_from" in entry else ""
                )
                table.add_row(
                    entry["world"],
                    entry["document"],
                    health,
                    str(entry["good_distinct_pieces"]),
                    str(entry["seal_ok"]),
                    broken,
                )
        Console().print(table)
        Console().print(
            f"{len(report)} document(s): {counts['ok']} ok, {counts['degraded']} degraded, "
            f"{counts['lost']} lost" + (f"; {repaired} repaired" if repair else "")
        )
    if counts["lost"]:
        raise typer.Exit(EXIT_LOST)
    if counts["degraded"]:
        raise typer.Exit(EXIT_DEGRADED)


@app.command()
def bench(
    count: Annotated[int, typer.Option(help="Documents")] = 2000,
    size_kb: Annotated[int, typer.Option(help="Size of each document, KB")] = 200,
    concurrency: Annotated[int, typer.Option(help="Calls in flight against the service")] = 16,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path("bench-scor-results.json"),
) -> None:
    """Put and get of documents: plain files vs the storage engine vs the service (same disk, same run)."""
    from fseflow_tools.cli.main import running_system
    from fseflow_tools.services.scor_store.bench import run

    with running_system(start_if_missing=True) as system:
        from fseflow_tools.stack import Stack

        state = Stack().running()
        certs = Path(os.environ.get("FSEFLOW_CERTS_DIR") or (state.certs_dir if state else ""))
        supports = (os.environ.get("SCOR_SUPPORT_DIRS") or (state.scor_supports if state else "")).split(",")
        scratch = Path(supports[0]).parent if supports[0] else Path.cwd()
        figures = asyncio.run(run(system, certs, scratch, count, size_kb * 1024, concurrency))
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")
