"""The generator's own ceiling: the same workers against a null endpoint on this host.

Open loop past its ceiling only piles calls up, so the ceiling is searched like a knee: offered
rates doubling from ``start_rate`` every ``step_s`` seconds, against ``null_server`` (one process
per worker, on one port), one-second windows; the search stops at the first step whose
sent or acknowledged FSE/s fall under 90 % of the offered. The ceiling is the last step that kept up:
what the generator and the null server, on the same cores, can do. A run offering near it
measures the generator, not the pipeline; the report shows both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from fseflow_tools.load import null_server
from fseflow_tools.load import windows as w
from fseflow_tools.load.generator import Generator
from fseflow_tools.load.lots import WorldShape
from fseflow_tools.load.profiles import piecewise
from fseflow_tools.load.worker import WorkerPlan

KEPT_UP = 0.9


def kept_up(windows: dict[int, w.Window], first: int, last: int, rate: float) -> tuple[float, float, bool]:
    """(sent, acknowledged FSE/s, kept up) over windows ``first``..``last`` - 1 at ``rate``
    FSE/s: kept up when the generator sent on time and the answers came back."""
    span = [windows[i] for i in range(first, last) if i in windows]
    seconds = max(last - first, 1)
    sent = sum(x.counts[w.OFFERED_FSE] for x in span) / seconds
    acked = sum(x.counts[w.ACKED_FSE] for x in span) / seconds
    return sent, acked, sent >= KEPT_UP * rate and acked >= KEPT_UP * rate


async def measure_ceiling(
    workers: int, max_rate: float, step_s: float, shape: WorldShape, start_rate: float = 1000.0
) -> dict[str, Any]:
    rates = []
    rate = start_rate
    while rate <= max_rate:
        rates.append(rate)
        rate *= 2
    step = max(2, round(step_s))
    processes, port = await asyncio.to_thread(null_server.start_processes, workers)
    windows: dict[int, w.Window] = {}
    steps: list[dict[str, Any]] = []
    try:
        profile = piecewise("ceiling", [(float(step), r) for r in rates], 1.0)
        plan = WorkerPlan(
            0, 1, f"127.0.0.1:{port}", profile, shape, "load-ceiling", "ceiling", drain_s=5.0, window_s=1.0
        )
        generator = Generator(plan, workers, lambda d: w.merge(windows, d))
        try:
            start_at = await generator.start()
            collecting = asyncio.create_task(generator.collect())
            for number, offered_rate in enumerate(rates):
                # Judge a step one second after its end (its last window's answers are in).
                await asyncio.sleep(max(0.0, start_at + (number + 1) * step + 1.0 - time.monotonic()))
                # The first second of a step is the change of rate: judged on the others.
                offered, acked, ok = kept_up(windows, number * step + 1, (number + 1) * step, offered_rate)
                steps.append(
                    {
                        "offered_rate": offered_rate,
                        "sent": round(offered),
                        "acked": round(acked),
                        "kept_up": ok,
                    }
                )
                if not ok or collecting.done():
                    generator.stop()
                    break
            with contextlib.suppress(asyncio.CancelledError):
                await collecting
        finally:
            await generator.close()
    finally:
        for process in processes:
            process.terminate()
            await asyncio.to_thread(process.join, 10)
    good = [s for s in steps if s["kept_up"]]
    best = max(good, key=lambda s: s["acked"]) if good else None
    return {
        "acked_fse_per_s": best["acked"] if best else None,
        "first_step_behind": next((s["offered_rate"] for s in steps if not s["kept_up"]), None),
        "steps": steps,
        "workers": workers,
        "null_server_processes": workers,
    }
