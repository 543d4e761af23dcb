"""`fseflow chaos`: the chaos suite on the embedded stack (it kills and restarts its processes)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fseflow_tools import stack
from fseflow_tools.chaos import Chaos, Round, scenario

err = Console(stderr=True, highlight=False)


def chaos(
    rounds: Annotated[
        int, typer.Option(min=1, help="disturbed replays, each compared with the undisturbed one")
    ] = 10,
    kills: Annotated[
        int, typer.Option(min=0, help="SIGKILLs per round, of random processes at random moments")
    ] = 3,
    fse: Annotated[int, typer.Option(min=1, help="FSE in the generated scenario")] = 20_000,
    days: Annotated[int, typer.Option(min=1, help="business days of lots (relances follow for months)")] = 20,
    seed: Annotated[int, typer.Option(help="the scenario's and the kills' seed")] = 1,
    out_path: Annotated[Path | None, typer.Option("--out", help="the rounds as JSON")] = None,
    fresh_stack: Annotated[
        bool,
        typer.Option(
            "--fresh-stack/--same-stack",
            help="an empty stack for every round (else the rounds pile up in one broker and slow down)",
        ),
    ] = True,
) -> None:
    """Replay a generated scenario undisturbed, then in rounds while killing processes (SIGKILL)
    and restarting them; every round must give the same results. Exit 1 when one does not."""
    embedded = stack.Stack(any_free_port=os.environ.get("FSEFLOW_ANY_FREE_PORT", "") in ("1", "true", "yes"))
    try:
        outcome = embedded.ensure_up(progress=True)
    except stack.FAILURES as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    document = scenario(fse=fse, business_days=days, seed=seed)
    runner = Chaos(embedded, outcome.state, document, seed=seed, kills_per_round=kills, say=err.print)
    try:
        report = asyncio.run(_run(runner, rounds, fresh_stack))
    finally:
        if fresh_stack:
            # Every round's stack was its own, holding only chaos data: none is left running.
            embedded.down(embedded.load() or runner.state, wipe=True)
            err.print("the chaos stack is stopped and its data deleted")
    _print(report)
    if out_path is not None:
        out_path.write_text(json.dumps([_as_json(r) for r in report], indent=2) + "\n")
    if not all(r.identical for r in report):
        raise typer.Exit(1)


async def _run(runner: Chaos, rounds: int, fresh_stack: bool) -> list[Round]:
    expected = await runner.undisturbed()
    report = []
    for number in range(1, rounds + 1):
        if fresh_stack:
            await runner.fresh_stack()
        result = await runner.round(number, expected)
        err.print(
            f"round {number}: {'identical' if result.identical else 'DIFFERENT'} "
            f"({', '.join(f'{k.instance} on {k.day}' for k in result.kills)}; {result.seconds:.0f}s)"
        )
        report.append(result)
    return report


def _print(report: list[Round]) -> None:
    table = Table(title="chaos: SIGKILL and restart during a replay")
    table.add_column("round", justify="right")
    table.add_column("killed (business day, seconds into it, back ready after)")
    table.add_column("identical")
    table.add_column("seconds", justify="right")
    for r in report:
        killed = "; ".join(
            f"{k.instance} {k.day} +{k.after_s:.2f}s ({k.restarted_in_s:.0f}s)" for k in r.kills
        )
        table.add_row(
            str(r.number),
            killed,
            "yes" if r.identical else "NO: " + " | ".join(r.differences),
            f"{r.seconds:.0f}",
        )
    Console().print(table)


def _as_json(r: Round) -> dict[str, Any]:
    return {
        "round": r.number,
        "identical": r.identical,
        "seconds": round(r.seconds, 1),
        "kills": [
            {
                "instance": k.instance,
                "day": k.day.isoformat(),
                "after_s": round(k.after_s, 3),
                "restarted_in_s": round(k.restarted_in_s, 1),
            }
            for k in r.kills
        ],
        "differences": r.differences,
    }
