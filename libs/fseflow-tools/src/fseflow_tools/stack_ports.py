"""The embedded stack's TCP ports: the documented ones, overrides, and who holds a taken one.

``fseflow up`` uses the documented ports (README, docs/decisions.md D31) and fails with a clear
error when one is taken; ``--port NAME=PORT`` (or ``FSEFLOW_PORTS``) moves one. Temporary stacks
(tests, concurrent sessions) ask for any free port instead, so they never take a documented one.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Mapping
from pathlib import Path

DEFAULT_PORTS = {
    "kafka": 19092,
    "kafka-controller": 19093,
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
# What needs each port, for error messages (an instance's ops port: its name).
PURPOSES = {
    "kafka": "the broker: Tansu, or Apache Kafka node 1",
    "kafka-controller": "Apache Kafka's KRaft controller listener (node 1)",
    "kafka-2": "Apache Kafka's node 2",
    "kafka-controller-2": "Apache Kafka's KRaft controller listener (node 2)",
    "kafka-3": "Apache Kafka's node 3",
    "kafka-controller-3": "Apache Kafka's KRaft controller listener (node 3)",
    "postgres": "PostgreSQL",
    "ingest-grpc": "ingest's gRPC front door",
    "scor-grpc": "scor-store's gRPC (mTLS)",
    "pointage-console": "pointage's console and decisions API",
}
# Replica N of a service takes its ops port at +10 per replica (national-check-2: 9112).
REPLICA_STEP = 10


class PortTaken(RuntimeError):
    pass


def default_port(name: str, service: str, overrides: Mapping[str, int]) -> int:
    """The documented (or overridden) port of ``name``: a DEFAULT_PORTS key or an instance
    (``national-check-2`` of ``national-check``)."""
    if name in overrides:
        return overrides[name]
    if name in DEFAULT_PORTS:
        return DEFAULT_PORTS[name]
    replica = int(name.rpartition("-")[2])
    return overrides.get(service, DEFAULT_PORTS[service]) + REPLICA_STEP * (replica - 1)


def parse_overrides(items: list[str], known: set[str]) -> dict[str, int]:
    """["kafka=29092", "national-check-2=9222"] -> {...}; ValueError naming the bad item."""
    overrides: dict[str, int] = {}
    for item in items:
        name, _, number = item.partition("=")
        if name not in known:
            raise ValueError(f"--port {item!r}: unknown name {name!r}; names: {', '.join(sorted(known))}")
        if not number.isdigit() or not 0 < int(number) < 65536:
            raise ValueError(f"--port {item!r}: expected NAME=PORT with PORT in 1..65535")
        overrides[name] = int(number)
    return overrides


def is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (SO_REUSEADDR, as servers bind, so that
    connections of a stopped process lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def any_free_port(host: str) -> int:
    """A free port below the kernel's ephemeral range: a port the kernel hands out to outgoing
    connections could be taken by one of them while its service restarts (seen: ingest's ops
    port, held by a client's connection, after a kill -9)."""
    low, _high = _ephemeral_range()
    first = 20000 if low > 21000 else 1024
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(first, low)
        if is_free(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        chosen: int = s.getsockname()[1]
        return chosen


class PortPlan:
    """Chooses the ports of a stack starting afresh, before anything starts."""

    def __init__(self, host: str, *, any_free: bool, overrides: Mapping[str, int] | None = None) -> None:
        self.host = host
        self.any_free = any_free
        self.overrides = dict(overrides or {})
        self.claimed: set[int] = set()

    def claim(self, name: str, service: str = "") -> int:
        """The port for ``name``: the documented one (or its override), else, for a temporary
        stack, any free one; PortTaken naming the port, what needs it and how to move it."""
        if self.any_free and name not in self.overrides:
            port = any_free_port(self.host)
            while port in self.claimed:
                port = any_free_port(self.host)
        else:
            port = default_port(name, service, self.overrides)
            if port in self.claimed or not is_free(self.host, port):
                raise PortTaken(taken_message(port, name, PURPOSES.get(name, f"{name}'s ops endpoint")))
        self.claimed.add(port)
        return port


def taken_message(port: int, name: str, purpose: str) -> str:
    holder = port_holder(port)
    by = f" by {holder}" if holder else " by another process"
    return (
        f"port {port} ({purpose}) is taken{by}. Stop that process, or give {name} another port: "
        f"`fseflow up --port {name}=PORT` (or FSEFLOW_PORTS={name}=PORT), or let every port of "
        "the stack be any free one: `fseflow up --any-free-port` (or FSEFLOW_ANY_FREE_PORT=1)"
    )


def port_holder(port: int) -> str | None:
    """'pid 123 (python -m ingest)' for the process listening on ``port``, when /proc tells."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    return f"pid {entry.name} ({command.strip()[:120]})"
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    return inodes


def listening_addresses(port: int) -> list[str]:
    """The local addresses listening on ``port`` ("127.0.0.1", "0.0.0.0", "::"...), from /proc."""
    found: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":
                    found.append(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc/net/tcp6 prints the address as four host-order 32-bit words.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)
