"""``fseflow relances bench``: the deadline engine's benchmark (a plugin of the ``fseflow`` command line)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

relances_app = typer.Typer(help="The relances: deadline engine benchmark.", no_args_is_help=True)
err = Console(stderr=True)


@relances_app.command("bench")
def bench(
    open_deadlines: Annotated[int, typer.Option(help="Open deadlines in the table")] = 1_000_000,
    due: Annotated[int, typer.Option(help="Of which due on the closed day")] = 50_000,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path(
        "bench-relances-results.json"
    ),
) -> None:
    """One day closure firing ``due`` of ``open_deadlines`` open deadlines, with its raw baseline."""
    from fseflow_tools.cli.main import running_system
    from fseflow_tools.services.relances.bench import RelancesBenchConfig, run

    with running_system(start_if_missing=True) as system:
        figures = asyncio.run(
            run(system.kafka, system.database_url, RelancesBenchConfig(open_deadlines, due), err)
        )
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")
