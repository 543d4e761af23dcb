"""Apache Kafka for the embedded stack (broker kind ``kafka``): KRaft nodes, each a broker and a
controller, started from the jars ``make kafka`` resolves from ``deploy/kafka/pom.xml``.

Every node listens on loopback: a SASL_PLAINTEXT listener for clients and the other brokers
(SCRAM-SHA-512; the admin's SCRAM credentials are written at format time so the brokers can
authenticate to each other from the first second) and a controller listener (SASL PLAIN: KRaft
controllers cannot check SCRAM, whose credentials live in the metadata they serve). The
StandardAuthorizer refuses whatever no ACL allows; ``admin`` is the only super user. Data lives
in ``$FSEFLOW_HOME/kafka/node-N``, so ``fseflow down`` keeps it and ``fseflow up`` starts the same
nodes on it again (docs/decisions.md D53).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from fseflow.topics import SERVICES

ADMIN = "admin"
SCRAM_MECHANISM = "SCRAM-SHA-512"
SECURITY_PROTOCOL = "SASL_PLAINTEXT"
# Measured (D53): one idle node holds ~340 MB resident with a 512 MB heap; a replay or the bench
# never took its old generation past ~200 MB. Three nodes then fit next to PostgreSQL's 1 GB of
# shared buffers and the services on this 24 GiB machine with room to spare.
HEAP = os.environ.get("FSEFLOW_KAFKA_HEAP", "512m")
JVM_OPTIONS = (
    f"-Xms{HEAP}",
    f"-Xmx{HEAP}",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
# Where `make kafka` puts the classpath (relative to the checkout), and its completion stamp.
CACHE = Path(".cache") / "kafka"
STAMP = ".resolved"
POM = Path("deploy") / "kafka" / "pom.xml"


class KafkaUnavailable(RuntimeError):
    """Java or the resolved jars are missing: says what to run."""


@dataclass
class KafkaNode:
    node_id: int
    port: int  # SASL_PLAINTEXT: clients and the other brokers
    controller_port: int
    pid: int | None = None


def checkout() -> Path | None:
    """The source checkout this package runs from (it holds deploy/kafka/pom.xml), if any."""
    for parent in [Path.cwd(), *Path(__file__).resolve().parents]:
        if (parent / POM).exists():
            return parent
    return None


def pinned_version(root: Path) -> str:
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", (root / POM).read_text())
    if found is None:
        raise KafkaUnavailable(f"{root / POM} pins no <kafka.version>")
    return found.group(1)


def lib_dir() -> Path:
    """The directory of Kafka's jars: FSEFLOW_KAFKA_LIB, else what `make kafka` resolved."""
    if os.environ.get("FSEFLOW_KAFKA_LIB"):
        path = Path(os.environ["FSEFLOW_KAFKA_LIB"])
        if not any(path.glob("kafka_2.13-*.jar")):
            raise KafkaUnavailable(f"FSEFLOW_KAFKA_LIB={path} holds no kafka_2.13 jar")
        return path
    root = checkout()
    if root is None:
        raise KafkaUnavailable("no deploy/kafka/pom.xml here: set FSEFLOW_KAFKA_LIB to Kafka's jars")
    path = root / CACHE / pinned_version(root) / "lib"
    if not (path / STAMP).exists():
        raise KafkaUnavailable(
            f"Apache Kafka's jars are not resolved in {path}: run `make kafka` (Maven, once; "
            "then cached), or start the stack on Tansu (the default broker)"
        )
    return path


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise KafkaUnavailable("no `java` on PATH: Apache Kafka needs Java 17+ (Tansu needs none)")
    return found


def classpath() -> str:
    return f"{lib_dir()}/*"


def new_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints (without a JVM): 16 random bytes, URL-safe base64,
    never starting with '-' (command lines would read it as an option)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


# -- credentials --------------------------------------------------------------------------------


def credentials_file(home: Path) -> Path:
    return home / "kafka" / "credentials.json"


def load_credentials(home: Path) -> dict[str, str]:
    """principal -> password; the admin's and every service's, created once per stack (0600)."""
    path = credentials_file(home)
    found: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in (ADMIN, *SERVICES) if name not in found]
    if missing:
        found.update({name: secrets.token_urlsafe(24) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.touch(mode=0o600)
        temporary.chmod(0o600)
        temporary.write_text(json.dumps(found, indent=2) + "\n")
        temporary.replace(path)
    return found


# -- configuration ------------------------------------------------------------------------------


def node_dir(home: Path, node_id: int) -> Path:
    return home / "kafka" / f"node-{node_id}"


def config_file(home: Path, node_id: int) -> Path:
    return node_dir(home, node_id) / "server.properties"


def _jaas(module: str, options: dict[str, str]) -> str:
    quoted = " ".join(f'{key}="{value}"' for key, value in options.items())
    return f"org.apache.kafka.common.security.{module} required {quoted};"


def server_properties(home: Path, node: KafkaNode, nodes: list[KafkaNode], admin_password: str) -> str:
    """One combined broker+controller node of a static quorum of ``nodes`` (1 or 3)."""
    replicas = len(nodes)
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in nodes)
    admin = {"username": ADMIN, "password": admin_password}
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"CLIENT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"CLIENT://127.0.0.1:{node.port}",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "CLIENT",
        "controller.listener.names": "CONTROLLER",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.client.scram-sha-512.sasl.jaas.config": _jaas("scram.ScramLoginModule", admin),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(
            "plain.PlainLoginModule", {**admin, f"user_{ADMIN}": admin_password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(node_dir(home, node.node_id) / "data"),
        # Topics are created explicitly from the registry: a typo must fail, not make a topic.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min(2, replicas)),
        "offsets.topic.replication.factor": str(replicas),
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min(2, replicas)),
        "transaction.state.log.num.partitions": "8",
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": str(min(2, replicas)),
        # A group's first member gets its partitions at once (3 s by default: every test's wait).
        "group.initial.rebalance.delay.ms": "0",
        "unclean.leader.election.enable": "false",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
"""


def prepare(home: Path, nodes: list[KafkaNode], admin_password: str) -> str:
    """Write every node's configuration and format its storage (a new cluster id); returns it."""
    cluster = new_cluster_id()
    (home / "kafka").mkdir(parents=True, exist_ok=True)
    (home / "kafka" / "log4j2.properties").write_text(LOG4J2)
    for node in nodes:
        directory = node_dir(home, node.node_id)
        directory.mkdir(parents=True, exist_ok=True)
        config = config_file(home, node.node_id)
        config.write_text(server_properties(home, node, nodes, admin_password))
        config.chmod(0o600)  # it holds the admin's password
        formatted = subprocess.run(
            [
                java(),
                "-cp",
                classpath(),
                *_logging(home),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster,
                "-c",
                str(config),
                "--add-scram",
                f"{SCRAM_MECHANISM}=[name={ADMIN},password={admin_password}]",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if formatted.returncode != 0:
            raise KafkaUnavailable(
                f"formatting Kafka node {node.node_id}'s storage failed: "
                f"{(formatted.stderr or formatted.stdout).strip()[-2000:]}"
            )
    return cluster


def _logging(home: Path) -> list[str]:
    return [f"-Dlog4j2.configurationFile={home / 'kafka' / 'log4j2.properties'}"]


def start(home: Path, node: KafkaNode, log: Path) -> int:
    """Start one node on its formatted storage; returns its pid (the node may still be starting)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                java(),
                *JVM_OPTIONS,
                *_logging(home),
                "-cp",
                classpath(),
                "kafka.Kafka",
                str(config_file(home, node.node_id)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    node.pid = process.pid
    return process.pid


def marker(home: Path, node_id: int) -> str:
    """What the node's command line holds (``fseflow_tools.stack`` checks a recorded pid is still ours)."""
    return str(config_file(home, node_id))


def client_config(bootstrap: str, username: str, password: str) -> dict[str, str]:
    """librdkafka settings of a SASL/SCRAM client of the embedded Kafka."""
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": SECURITY_PROTOCOL,
        "sasl.mechanisms": SCRAM_MECHANISM,
        "sasl.username": username,
        "sasl.password": password,
    }


def _accepts(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((host, port)) == 0


def wait_ready(bootstrap: str, admin_password: str, brokers: int, timeout: float, alive: object) -> None:
    """Until the admin lists topics and sees ``brokers`` brokers (metadata answered, SASL and
    the authorizer working); ``alive()`` false means a node died: KafkaUnavailable at once."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    deadline = time.monotonic() + timeout
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    while not _accepts(host, int(port)):  # before that, librdkafka would log every refusal
        if callable(alive) and not alive():
            raise KafkaUnavailable("a Kafka node exited during start-up")
        if time.monotonic() > deadline:
            raise KafkaUnavailable(f"Kafka did not open {bootstrap} within {timeout:.0f}s")
        time.sleep(0.1)
    admin = AdminClient({**client_config(bootstrap, ADMIN, admin_password), "log_level": 2})
    last = "no answer yet"
    while time.monotonic() < deadline:
        if callable(alive) and not alive():
            raise KafkaUnavailable("a Kafka node exited during start-up")
        try:
            metadata = admin.list_topics(timeout=2.0)
            if len(metadata.brokers) >= brokers and metadata.controller_id >= 0:
                return
            last = f"{len(metadata.brokers)} of {brokers} brokers registered"
        except KafkaException as exc:
            last = str(exc)
        time.sleep(0.2)
    raise KafkaUnavailable(f"Kafka did not answer metadata within {timeout:.0f}s: {last}")
