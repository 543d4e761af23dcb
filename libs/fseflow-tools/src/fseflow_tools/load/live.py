"""The terminal view while a run goes: elapsed, rates, backlog, p99 (rich)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


@dataclass
class Snapshot:
    elapsed_s: float
    duration_s: float
    offered_now: float  # FSE/s the profile offers at this instant
    last_window: Mapping[str, Any] | None  # the last complete window's row
    totals: Mapping[str, int]
    backlog: Mapping[str, int] = field(default_factory=dict)
    days_closed: int = 0
    note: str = ""


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def table(snapshot: Snapshot) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    row = snapshot.last_window or {}
    grid.add_row(
        "rate (FSE/s)",
        f"offered now {snapshot.offered_now:,.0f} · last window: offered {row.get('offered_rate', 0):,.0f}, "
        f"acknowledged {row.get('publish_rate', 0):,.0f}, classified {row.get('classified_rate', 0):,.0f}",
    )
    grid.add_row(
        "p99",
        f"SubmitLot {_ms(row.get('publishLatency99pct'))} · receipt -> classified "
        f"{_ms(row.get('endToEndLatency99pct'))}",
    )
    lag = ", ".join(f"{group} {n:,}" for group, n in snapshot.backlog.items() if n) or "none"
    grid.add_row("lag (records)", lag)
    totals = snapshot.totals
    failed = sum(v for k, v in totals.items() if k.startswith("error:"))
    grid.add_row(
        "totals",
        f"FSE sent {totals.get('offered_fse', 0):,} · acknowledged {totals.get('acked_fse', 0):,} · "
        f"classified {totals.get('classified', 0):,} · failed calls {failed:,} · "
        f"days closed {snapshot.days_closed}",
    )
    if snapshot.note:
        grid.add_row("", snapshot.note)
    return grid


class LiveView:
    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]load"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn()
        )
        self._task = self._progress.add_task("load", total=1.0)
        self._live: Live | None = None

    def __enter__(self) -> LiveView:
        if self.enabled:
            self._live = Live(console=self.console, refresh_per_second=2, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, snapshot: Snapshot) -> None:
        if self._live is None:
            return
        total = max(snapshot.duration_s, 1e-9)
        self._progress.update(self._task, completed=min(snapshot.elapsed_s / total, 1.0))
        self._live.update(Group(self._progress, table(snapshot)))
