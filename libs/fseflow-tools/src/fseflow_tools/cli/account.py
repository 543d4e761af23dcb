"""``fseflow account PS_ID``: a professional's account — payments (gross, offset, net), the ledger
of each recovery (due, applied, remaining), relances still running, aids.

Each service's tables are read by that service's own query (``pointage.adapters.postgres.account_of``,
``relances.adapters.postgres.account_of``): this tool composes them, no service reads another's.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)
out = Console(width=160)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        from fseflow_tools.stack import Stack

        state = Stack().running()
        url = state.database_url if state is not None else None
    if not url:
        err.print("[red]set DATABASE_URL (or start the embedded stack: fseflow up)")
        raise typer.Exit(2)
    return url


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def read_account(database_url: str, ps_id: str, world: str | None) -> dict[str, Any]:
    from fseflow.db import create_pool
    from fseflow.world import latest_world_of
    from pointage.adapters.postgres import account_of as pole_account
    from relances.adapters.postgres import account_of as relances_account

    pool = await create_pool(database_url, max_size=1)
    try:
        async with pool.acquire() as conn:
            if world is None:
                world = await latest_world_of(conn, ps_id)
            account: dict[str, Any] = {"world": world, "ps": ps_id}
            parts = {
                **await pole_account(conn, world or "", ps_id),
                **await relances_account(conn, world or "", ps_id),
            }
            for name in ("payments", "recoveries", "relances", "aids"):
                account[name] = [{k: _plain(v) for k, v in row.items()} for row in parts[name]]
    finally:
        await pool.close()
    return account


def _euros(cents: int) -> str:
    return f"{cents / 100:,.2f}"


STEPS = {1: "J30 overdue", 2: "J45 reminder", 3: "J75 indu"}


def recovery_state(recovery: dict[str, Any], document_matched_on: str | None) -> str:
    """A recovery whose document came is cancelled when it falls due, at the professional's next
    payment (R13): that day and the document's differ, so both are shown."""
    if recovery["cancelled_on"]:
        came = f"document matched {document_matched_on}" if document_matched_on else "document matched"
        return f"cancelled {recovery['cancelled_on']}: {came}"
    if recovery["remaining_cents"] == 0:
        return f"recovered {recovery['first_applied_on']} - {recovery['last_applied_on']}"
    if recovery["first_applied_on"]:
        return f"recovering since {recovery['first_applied_on']}"
    return "waiting for a payment"


def account(
    ps_id: Annotated[str, typer.Argument(help="The professional's id, e.g. ps-1")],
    world: Annotated[str | None, typer.Option(help="World (default: the latest one they are in)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """A professional's account: payments, the ledger of each recovery, relances, aids."""
    from fseflow.world import UnknownWorld, check_known

    if not ps_id.strip():
        err.print("PS_ID: a professional's id, got an empty one", style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    database_url = _database_url()
    if world is not None:
        try:
            asyncio.run(check_known(database_url, world))
        except UnknownWorld as exc:
            err.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    data = asyncio.run(read_account(database_url, ps_id, world))
    if data["world"] is None:
        err.print(f"[red]{ps_id} is in no world")
        raise typer.Exit(1)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")  # plain: never wrapped when piped
        return
    out.print(f"[bold]{ps_id}[/bold] in world {data['world']}")
    payments = Table(title="Payments")
    for column in ("paid on", "FSE", "gross €", "offset €", "net €"):
        payments.add_column(column, justify="right")
    for p in data["payments"]:
        payments.add_row(
            p["paid_on"],
            str(p["fse_count"]),
            _euros(p["gross_cents"]),
            _euros(p["offset_cents"]),
            _euros(p["net_cents"]),
        )
    out.print(payments)
    ledger = Table(title="Recoveries (R13)")
    for column in ("FSE", "kind", "indu", "from", "due €", "applied €", "remaining €", "state"):
        ledger.add_column(column)
    matched_on = {d["fse_id"]: d["matched_on"] for d in data["relances"]}
    for r in data["recoveries"]:
        state = recovery_state(r, matched_on.get(r["fse_id"]))
        ledger.add_row(
            r["fse_id"],
            r["kind"],
            r["indu_on"],
            r["recover_on"],
            _euros(r["amount_cents"]),
            _euros(r["applied_cents"]),
            _euros(r["remaining_cents"]),
            state,
        )
    out.print(ledger)
    relances = Table(title="Relances of missing documents")
    for column in ("FSE", "paid on", "amount €", "step", "due", "document matched", "state"):
        relances.add_column(column)
    recover_on = {r["fse_id"]: r["recover_on"] for r in data["recoveries"]}
    for d in data["relances"]:
        # Once the recovery is ordered the pôle holds it: show that step rather than the last fired.
        ordered = d["state"] == "ordered" and d["fse_id"] in recover_on
        relances.add_row(
            d["fse_id"],
            d["paid_on"],
            _euros(d["amount_cents"]),
            "J135 recovery" if ordered else STEPS.get(d["step"], str(d["step"])),
            recover_on[d["fse_id"]] if ordered else d["due_on"],
            d["matched_on"] or "-",
            d["state"],
        )
    out.print(relances)
    for aid in data["aids"]:
        out.print(f"aid {aid['kind']} on {aid['granted_on']}: {_euros(aid['amount_cents'])} €")
