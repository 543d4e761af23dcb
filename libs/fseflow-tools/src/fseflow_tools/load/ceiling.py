"""The generator's own ceiling: the same workers against a null endpoint on this host.

A constant profile well above what a pipeline takes, sent to ``null_server`` (in a process of
its own), with one-second windows; the FSE/s acknowledged after the first second is what the
generator (and the null server, on the same cores) can do. A run whose offered rate is near this
figure measures the generator, not the pipeline: the report shows both.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fseflow_tools.load import null_server
from fseflow_tools.load import windows as w
from fseflow_tools.load.generator import Generator
from fseflow_tools.load.lots import WorldShape
from fseflow_tools.load.profiles import constant
from fseflow_tools.load.worker import WorkerPlan


async def measure_ceiling(workers: int, rate: float, seconds: float, shape: WorldShape) -> dict[str, Any]:
    process, port = await asyncio.to_thread(null_server.start_process)
    windows: dict[int, w.Window] = {}
    try:
        plan = WorkerPlan(
            0,
            1,
            f"127.0.0.1:{port}",
            constant(rate, seconds, 1.0),
            shape,
            "load-ceiling",
            "ceiling",
            window_s=1.0,
        )
        generator = Generator(plan, workers, lambda d: w.merge(windows, d))
        try:
            await generator.start()
            await generator.collect()
        finally:
            await generator.close()
    finally:
        process.terminate()
        await asyncio.to_thread(process.join, 10)
    steady = [windows[i] for i in sorted(windows) if 1 <= i < int(seconds)]
    acked = sum(win.counts[w.ACKED_FSE] for win in steady)
    offered = sum(win.counts[w.OFFERED_FSE] for win in steady)
    return {
        "offered_fse_per_s": round(offered / max(len(steady), 1), 1),
        "acked_fse_per_s": round(acked / max(len(steady), 1), 1),
        "lots_per_s": round(sum(win.counts[w.ACKED_LOTS] for win in steady) / max(len(steady), 1), 1),
        "publishLatency99pct": w.latency_ms(w.merged(steady, w.PUBLISH))["99pct"],
        "publishDelayLatency99pct": w.latency_us(w.merged(steady, w.PUBLISH_DELAY))["99pct"],
        "workers": workers,
        "seconds": seconds,
    }
