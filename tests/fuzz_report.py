"""pytest plugin for ``make fuzz`` (``-p tests.fuzz_report``): the number of fuzz cases run and
how many failed, at the end of the session; the session fails when too few ran."""

from __future__ import annotations

import os

import pytest

from tests.fuzzing import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    crashed = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    terminalreporter.write_line(
        f"fuzz: {TALLY.cases:,} cases run, {TALLY.failed:,} failing cases, {crashed} crashed tests"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    least = int(os.environ.get("FSEFLOW_FUZZ_LEAST") or 0)
    if exitstatus == 0 and TALLY.cases < least:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nfuzz: only {TALLY.cases:,} cases ran, {least:,} expected")
