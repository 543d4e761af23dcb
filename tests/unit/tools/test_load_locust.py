"""The locustfile runs under Locust (its own process: Locust monkey-patches the standard library
with gevent on import) against a null endpoint, and its SubmitLot calls reach Locust's
statistics."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from fseflow_tools.load import null_server

ROOT = Path(__file__).resolve().parents[3]
LOCUSTFILE = ROOT / "deploy" / "load" / "locustfile.py"


def test_locust_reports_submitlot_calls(tmp_path: Path) -> None:
    processes, port = null_server.start_processes(1)
    try:
        env = {
            **os.environ,
            "FSEFLOW_LOAD_WORLD": "load-locust-test",
            "FSEFLOW_LOAD_PROFESSIONALS": "20",
            "FSEFLOW_LOAD_PATIENTS": "500",
        }
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--host",
                f"127.0.0.1:{port}",
                "--headless",
                "-u",
                "2",
                "-r",
                "2",
                "-t",
                "8s",
                "--csv",
                str(tmp_path / "stats"),
                "--exit-code-on-error",
                "1",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        for process in processes:
            process.terminate()
            process.join(10)
    assert completed.returncode == 0, completed.stderr[-2000:]
    with (tmp_path / "stats_stats.csv").open() as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert rows["SubmitLot"]["Type"] == "grpc"
    assert int(rows["SubmitLot"]["Request Count"]) > 0
    assert int(rows["SubmitLot"]["Failure Count"]) == 0
