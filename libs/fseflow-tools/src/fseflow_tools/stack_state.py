"""What the embedded stack records (``$FSEFLOW_HOME/stack.json``) and the decisions taken on it
without touching a process: what ``up`` starts again or refuses, which options agree with a
recorded stack. ``fseflow_tools.stack`` runs the processes."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fseflow_tools import kafka_broker
from fseflow_tools.kafka_broker import KafkaNode

SERVICE_MODULES = {
    "ingest": "ingest",
    "national-check": "national_check",
    "pointage": "pointage",
    "scor-store": "scor_store",
    "relances": "relances",
}
# Stages that can run several processes locally: Kafka splits their partitions between them.
# (ingest scales too, behind a load balancer on a cluster; locally it keeps one gRPC port.)
SCALABLE = frozenset({"national-check", "pointage", "relances", "scor-store"})
# national-check is the CPU-heaviest stage and Python runs it on one core: two processes (four
# partitions each) measured 12.7k FSE/s against 9.0k for one (docs/decisions.md).
# pointage likewise: its intake alternates Python and PostgreSQL work; two consumers overlap them
# (matching 1M FSE + 1M documents: 10.8k/s with one, 15.5k/s with two; docs/decisions.md).
DEFAULT_REPLICAS = {"national-check": 2, "pointage": 2}

# The broker's kind, kept in the state: what stopping it does to the data.
BROKER_TANSU = "tansu"  # embedded, memory storage: its topics die with the process
BROKER_KAFKA = "kafka"  # embedded Apache Kafka (KRaft), log dirs under $FSEFLOW_HOME/kafka
BROKER_EXTERNAL = "external"  # KAFKA_BOOTSTRAP_SERVERS: not ours to start, stop or wipe
MEMORY_BROKERS = frozenset({BROKER_TANSU})
EMBEDDED_BROKERS = (BROKER_TANSU, BROKER_KAFKA)
# Kafka nodes a stack may run: one, or a quorum of three (replication factor 3, min ISR 2).
KAFKA_NODE_COUNTS = (1, 3)
# The names `up` reports for the two infrastructure processes (the broker's: its kind).
BROKER = "tansu"
DATABASE = "postgresql"


def kafka_port_names(node_id: int) -> tuple[str, str]:
    """The port names of Kafka node N: (clients', controller's); node 1's are "kafka" and
    "kafka-controller", node 2's "kafka-2" and "kafka-controller-2" (+10 each, D31)."""
    if node_id == 1:
        return "kafka", "kafka-controller"
    return f"kafka-{node_id}", f"kafka-controller-{node_id}"


def instance_names(service: str, replicas: int) -> list[str]:
    """national-check x3 -> national-check, national-check-2, national-check-3."""
    return [service if i == 0 else f"{service}-{i + 1}" for i in range(replicas)]


class StackError(RuntimeError):
    pass


class UnknownProcess(StackError):
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
    # Environment given to this process beyond the stack's own (kept for its restarts).
    extra_env: dict[str, str] = field(default_factory=dict)


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
    # The pôle's console and decisions API.
    pointage_url: str = ""
    # BROKER_TANSU, BROKER_KAFKA or BROKER_EXTERNAL (a stack.json written before this field:
    # from embedded_kafka).
    broker_kind: str = ""
    # BROKER_KAFKA: its nodes (ports, pids) and the replication factor of the topics.
    kafka_nodes: list[KafkaNode] = field(default_factory=list)
    kafka_replication_factor: int = 1
    # The services run as containers of this image (`fseflow up --image`); empty: as processes.
    service_image: str = ""

    def __post_init__(self) -> None:
        if not self.broker_kind:
            self.broker_kind = BROKER_TANSU if self.embedded_kafka else BROKER_EXTERNAL

    @property
    def broker_keeps_data(self) -> bool:
        return self.broker_kind not in MEMORY_BROKERS

    def kafka_credentials(self, user: str) -> dict[str, str]:
        """KAFKA_* settings of ``user`` (admin or a service) on the embedded Apache Kafka."""
        if self.broker_kind != BROKER_KAFKA:
            return {}
        passwords = kafka_broker.load_credentials(Path(self.home))
        return {
            "KAFKA_SECURITY_PROTOCOL": kafka_broker.SECURITY_PROTOCOL,
            "KAFKA_SASL_MECHANISM": kafka_broker.SCRAM_MECHANISM,
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD": passwords[user],
        }

    def env(self) -> dict[str, str]:
        """What a client (replay, bench, subscribe, fsck) needs to reach this stack: on Apache
        Kafka, with the admin's credentials (a super user: clients here are operators' tools)."""
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
            "TECHNICIAN_CERTS_DIR": str(Path(self.certs_dir) / "technicians") if self.certs_dir else "",
        }
        if self.broker_kind == BROKER_TANSU:
            values["KAFKA_IDEMPOTENCE"] = "false"  # Tansu refuses InitProducerId
        if self.broker_kind == BROKER_KAFKA:
            values["KAFKA_IDEMPOTENCE"] = "true"
            values["KAFKA_REPLICATION_FACTOR"] = str(self.kafka_replication_factor)
            values.update(self.kafka_credentials(kafka_broker.ADMIN))
        return values

    def ports(self) -> dict[str, int]:
        """Every port of the stack by name (DEFAULT_PORTS' names, instances by their own)."""
        found = {
            "kafka": port_of(self.kafka_bootstrap_servers.split(",")[0]) if self.embedded_kafka else None,
            "postgres": port_of(self.database_url) if self.embedded_postgres else None,
            "ingest-grpc": port_of(self.ingest_address),
            "scor-grpc": port_of(self.scor_address) if "scor-store" in self.running_services() else None,
            "pointage-console": port_of(self.pointage_url),
        }
        ports = {name: port for name, port in found.items() if port}
        for node in self.kafka_nodes:
            client, controller = kafka_port_names(node.node_id)
            ports.update({client: node.port, controller: node.controller_port})
        ports.update({name: p.metrics_port for name, p in self.services.items()})
        return ports

    def running_services(self) -> set[str]:
        return {p.service or name for name, p in self.services.items()}

    def data(self) -> list[str]:
        """What deleting this stack's data deletes, in words."""
        found = []
        if self.broker_kind == BROKER_TANSU:
            found.append("the broker's topics (in Tansu's memory)")
        if self.broker_kind == BROKER_KAFKA:
            found.append(f"the broker's topics (Kafka's log dirs in {Path(self.home) / 'kafka'})")
        if self.embedded_postgres and self.postgres_data:
            found.append(f"the database ({self.postgres_data})")
        if self.scor_supports:
            found.append(f"the Scor documents ({Path(self.scor_supports.split(',')[0]).parent})")
        return found


@dataclass(frozen=True)
class Liveness:
    """What runs of a recorded stack (an external broker or database counts as running)."""

    broker: bool
    database: bool
    processes: dict[str, bool]

    @property
    def infrastructure(self) -> bool:
        return self.broker and self.database


@dataclass
class UpOutcome:
    state: StackState
    # What this call started: BROKER, DATABASE and instance names, in order.
    started: list[str]
    # A new stack (nothing was recorded).
    fresh: bool


@dataclass
class DownOutcome:
    stopped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # Why data was deleted although not asked (a memory broker), else "".
    forced_by: str = ""


def recovery(state: StackState, live: Liveness) -> list[str]:
    """What ``up`` starts again on a recorded stack, in order; StackError when it cannot without
    deleting data (the memory broker died: its topics are gone)."""
    if state.embedded_kafka and not live.broker and not state.broker_keeps_data:
        raise StackError(broker_lost_message(state))
    return not_running(state, live)  # a durable broker starts again on its own data


def not_running(state: StackState, live: Liveness) -> list[str]:
    """What is recorded but not running, in the order ``up`` starts it (a broker or database not
    the stack's own counts as running: it is not ours to start)."""
    missing = []
    if state.embedded_kafka and not live.broker:
        missing.append(state.broker_kind)
    if state.embedded_postgres and not live.database:
        missing.append(DATABASE)
    return missing + [name for name, alive in live.processes.items() if not alive]


def broker_lost_message(state: StackState) -> str:
    kept = [d for d in state.data() if not d.startswith("the broker's")]
    external = "" if state.embedded_postgres else f"; the external database {state.database_url} is not ours"
    return (
        f"Tansu (the memory broker of the stack in {state.home}, pid {state.broker_pid}) is not "
        "running: its topics are gone, so the data recorded with them no longer matches. "
        f"Starting afresh deletes {', '.join(kept) or 'nothing else'}{external}. "
        "Run `fseflow reset` to delete them and start an empty stack (or `fseflow down` to stop what "
        "still runs and delete them)."
    )


def requested_instances(services: Iterable[str], replicas: Mapping[str, int] | None) -> list[str]:
    for name, count in (replicas or {}).items():
        if count > 1 and name not in SCALABLE:
            raise StackError(f"{name} runs as one process locally (scalable: {', '.join(sorted(SCALABLE))})")
    counts = {**DEFAULT_REPLICAS, **(replicas or {})}
    return [instance for name in services for instance in instance_names(name, counts.get(name, 1))]


def check_agrees(
    state: StackState,
    *,
    kafka_bootstrap_servers: str | None,
    database_url: str | None,
    instances: list[str] | None,
    kafka_client: str | None,
    ports: dict[str, int] | None,
    broker_kind: str | None = None,
    brokers: int | None = None,
    image: str | None = None,
) -> None:
    """Options of ``up`` choose how a stack starts afresh: on a recorded one they must agree."""
    recorded_ports = state.ports()
    pairs: list[tuple[str, object, object]] = [
        ("broker", state.kafka_bootstrap_servers, kafka_bootstrap_servers),
        ("broker kind", state.broker_kind, broker_kind),
        ("Kafka nodes", len(state.kafka_nodes) or 1, brokers),
        ("database", state.database_url, database_url),
        ("kafka client", state.kafka_client, kafka_client),
        ("service image", state.service_image, image),
        ("processes", sorted(state.services), None if instances is None else sorted(instances)),
        *((f"port of {n}", recorded_ports.get(n), p) for n, p in (ports or {}).items()),
    ]
    differences = [
        f"{what}: recorded {recorded}, asked {asked}"
        for what, recorded, asked in pairs
        if asked is not None and asked != recorded
    ]
    if differences:
        raise StackError(
            f"the stack in {state.home} was started otherwise ({'; '.join(differences)}): those "
            "options apply to a stack starting afresh (`fseflow down`, then `fseflow up ...`; "
            "`fseflow reset ...` in one go)"
        )


def port_of(address: str) -> int:
    """127.0.0.1:9092 / postgresql://u@h:5432/db / http://h:8103 -> the port; 0 if none."""
    if not address:
        return 0
    rest = address.split("://", 1)[-1].split("/", 1)[0]
    number = rest.rsplit(":", 1)[-1]
    return int(number) if number.isdigit() else 0


def service_of(instance: str) -> str:
    if instance in SERVICE_MODULES:
        return instance
    base, _, number = instance.rpartition("-")
    if base in SERVICE_MODULES and number.isdigit():
        return base
    raise StackError(f"unknown service {instance!r} (services: {', '.join(SERVICE_MODULES)})")
