"""``fseflow bench-brokers``: the same measurement (SubmitLot -> classified, latency at half rate,
raw baseline) on Tansu and on one Apache Kafka node, one after the other in one run, each on a
temporary stack of its own, in one table; plus the broker's CPU seconds per 100,000 FSE (its
processes' user + system time from /proc, before and after the throughput phase)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from fseflow_tools.bench import BenchConfig, run_bench
from fseflow_tools.endpoints import from_stack
from fseflow_tools.stack import BROKER_KAFKA, BROKER_TANSU, Stack, StackState

BROKERS = (BROKER_TANSU, BROKER_KAFKA)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pids(state: StackState) -> list[int]:
    if state.broker_kind == BROKER_KAFKA:
        return [node.pid for node in state.kafka_nodes if node.pid]
    return [state.broker_pid] if state.broker_pid else []


def compare(config: BenchConfig, console: Console, brokers: tuple[str, ...] = BROKERS) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for kind in brokers:
        with tempfile.TemporaryDirectory(prefix=f"fseflow-bench-{kind}-") as home:
            stack = Stack(Path(home), any_free_port=True)
            console.print(f"[bold]{kind}[/bold]: starting a temporary stack...")
            state = stack.ensure_up(broker=kind, brokers=1, timeout=300, progress=False).state
            try:
                pids = broker_pids(state)
                console.print(f"{kind}: broker pid(s) {pids}")
                figures[kind] = asyncio.run(
                    run_bench(
                        from_stack(state),
                        config,
                        console,
                        cpu_seconds=lambda pids=pids: sum(process_cpu_seconds(p) for p in pids),  # type: ignore[misc]
                    )
                )
            finally:
                stack.down(state, wipe=True)
    table = Table(title=f"brokers side by side ({config.fse:,} FSE, same machine, one run)")
    for column in (
        "broker",
        "FSE/s",
        "p50 / p99 at half rate",
        "baseline msg/s",
        "ratio",
        "broker CPU s / 100k FSE",
    ):
        table.add_column(column, justify="left" if column == "broker" else "right")
    for kind, f in figures.items():
        table.add_row(
            "Tansu (memory)"
            if kind == BROKER_TANSU
            else "Apache Kafka (1 node, SASL/SCRAM, ACLs, idempotent)",
            f"{f['fse_per_s']:,.0f}",
            f"{f['p50_ms']} / {f['p99_ms']} ms",
            f"{f['baseline_msgs_per_s']:,.0f}",
            f"{f['ratio']:.3f}",
            f"{f['broker_cpu_s_per_100k_fse']}",
        )
    Console().print(table)
    return figures
