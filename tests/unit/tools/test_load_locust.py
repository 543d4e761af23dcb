"""The locustfile runs under Locust (its own process: Locust monkey-patches the standard library
with gevent on import) against a null endpoint, and its SubmitLot calls reach Locust's
statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fseflow_tools.load import null_server

ROOT = Path(__file__).resolve().parents[3]
LOCUSTFILE = ROOT / "deploy" / "load" / "locustfile.py"
WANTED = 20  # SubmitLot calls answered before the run stops
# Locust's library API, as its headless runner uses it, but stopped on a count of calls rather
# than after a run time (a busy machine may not even spawn the users in a few seconds).
RUNNER = f"""
import json, sys, time, importlib.util
import gevent
from locust.env import Environment

spec = importlib.util.spec_from_file_location("locustfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
env = Environment(user_classes=[module.SubmitLotUser], host=sys.argv[2])
runner = env.create_local_runner()
runner.start(2, spawn_rate=2)
deadline = time.monotonic() + 90
# Looked up at every turn: the runner clears its statistics when it starts spawning.
while env.stats.get("SubmitLot", "grpc").num_requests < {WANTED} and time.monotonic() < deadline:
    gevent.sleep(0.05)
runner.quit()
entry = env.stats.get("SubmitLot", "grpc")
errors = [f"{{e.name}}: {{e.error}}" for e in env.stats.errors.values()]
print(json.dumps({{"requests": entry.num_requests, "failures": entry.num_failures, "errors": errors}}))
"""


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "FSEFLOW_LOAD_WORLD": "load-locust-test",
        "FSEFLOW_LOAD_PROFESSIONALS": "20",
        "FSEFLOW_LOAD_PATIENTS": "500",
    }


def test_locust_reports_submitlot_calls() -> None:
    processes, port = null_server.start_processes(1)
    try:
        completed = subprocess.run(
            [sys.executable, "-c", RUNNER, str(LOCUSTFILE), f"127.0.0.1:{port}"],
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=150,
            check=False,
        )
    finally:
        for process in processes:
            process.terminate()
            process.join(10)
    assert completed.returncode == 0, completed.stderr[-2000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["requests"] >= WANTED, (figures, completed.stderr[-2000:])
    assert figures["failures"] == 0 and figures["errors"] == [], figures


def test_the_locust_command_loads_the_locustfile() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--list"],
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "SubmitLotUser" in completed.stdout
