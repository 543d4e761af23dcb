"""The ``fseflow`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fseflow import topics
from fseflow_tools import stack
from fseflow_tools.cli import caisse as caisse_cli
from fseflow_tools.cli import dlq as dlq_cli
from fseflow_tools.cli import k8s as k8s_cli
from fseflow_tools.cli import load as load_cli
from fseflow_tools.cli.account import account
from fseflow_tools.cli.chaos import chaos
from fseflow_tools.endpoints import Endpoints, from_environment, from_stack
from fseflow_tools.services.pointage import cli as pointage_cli
from fseflow_tools.services.relances import cli as relances_cli
from fseflow_tools.services.scor_store import cli as scor_cli

app = typer.Typer(
    help="fseflow: the French FSE claims pipeline, as microservices over Kafka.",
    no_args_is_help=True,
)
topics_app = typer.Typer(help="The topic registry.", no_args_is_help=True)
refdata_app = typer.Typer(help="National reference data.", no_args_is_help=True)
db_app = typer.Typer(help="The PostgreSQL schemas.", no_args_is_help=True)
clock_app = typer.Typer(help="The business clock.", no_args_is_help=True)
scenario_app = typer.Typer(help="Scenario files (the replay contract).", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(refdata_app, name="refdata")
app.add_typer(db_app, name="db")
app.add_typer(clock_app, name="clock")
app.add_typer(scenario_app, name="scenario")
app.add_typer(dlq_cli.app, name="dlq")
app.add_typer(caisse_cli.app, name="caisse")
app.add_typer(k8s_cli.app, name="k8s")
app.add_typer(load_cli.app, name="load")
app.command(name="account")(account)


# The services' own commands live here, not in the service wheels: fseflow pointage ..., scor ...
app.add_typer(pointage_cli.app, name="pointage")
app.add_typer(scor_cli.app, name="scor")
app.add_typer(relances_cli.relances_app, name="relances")

# soft_wrap: lines are never wrapped nor cut (addresses and paths are copied from them).
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

EXIT_INVALID_SCENARIO = 2
EXIT_INCOMPLETE = 3
EXIT_REPLAY_FAILED = 4
EXIT_NOT_RUNNING = 3  # `fseflow status`: LSB's "program is not running"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def _stack(any_free_port: bool | None = None) -> stack.Stack:
    """The stack in $FSEFLOW_HOME; FSEFLOW_ANY_FREE_PORT=1 makes one started here take free ports."""
    return stack.Stack(
        any_free_port=_flag("FSEFLOW_ANY_FREE_PORT") if any_free_port is None else any_free_port
    )


def _fail(message: str, code: int = 1) -> NoReturn:
    """The message on stderr (never wrapped, never read as markup), then exit ``code``."""
    err.print(message, style="red", markup=False, highlight=False)
    raise typer.Exit(code)


def _writable(path: Path, option: str, *, directory: bool = False) -> None:
    """Exit 2 naming the option when its output could not be written, before any work is done."""
    from fseflow_tools.cli.outputs import directory_problem, file_problem

    problem = directory_problem(path) if directory else file_problem(path)
    if problem:
        _fail(f"{option} {path}: cannot write there: {problem}", 2)


@contextlib.contextmanager
def running_system(*, start_if_missing: bool, quiet: bool = False) -> Iterator[Endpoints]:
    """The system to talk to; the embedded stack is started (and stopped after) if there is none,
    or its stopped processes started again (and left running) if it is recorded."""
    embedded = _stack()
    found = from_environment(os.environ, embedded)
    if found is not None:
        _warn_stopped(embedded, found)
        yield found
        return
    if not start_if_missing:
        _fail("No running stack: run `fseflow up`, or set KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL.")
    if not quiet:
        err.print(
            "[dim]No KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL and no running stack: starting the embedded one."
        )
    try:
        outcome = embedded.ensure_up(progress=not quiet)
    except stack.FAILURES as exc:
        _fail(str(exc))
    if not outcome.fresh:
        err.print(f"started again: {', '.join(outcome.started)}", highlight=False)
        yield from_stack(outcome.state)
        return
    try:
        yield from_stack(outcome.state)
    finally:
        if not quiet:
            err.print("[dim]Stopping the embedded stack started for this run (and deleting its data).")
        embedded.down(outcome.state, wipe=True)


def _embedded_state(embedded: stack.Stack, system: Endpoints) -> stack.StackState | None:
    """The recorded stack when ``system`` is it."""
    state = embedded.load()
    if state is None or (state.kafka_bootstrap_servers, state.database_url) != (
        system.kafka.kafka_bootstrap_servers,
        system.database_url,
    ):
        return None
    return state


def _warn_stopped(embedded: stack.Stack, system: Endpoints) -> None:
    state = _embedded_state(embedded, system)
    if state is None:
        return
    stopped = [name for name, alive in embedded.liveness(state).processes.items() if not alive]
    if stopped:
        err.print(
            f"[yellow]warning:[/yellow] not running: {', '.join(stopped)} (`fseflow up` starts them again)",
            highlight=False,
        )


# -- stack ----------------------------------------------------------------------------------------

KafkaClientOption = Annotated[
    str | None, typer.Option(help="confluent (librdkafka) or aiokafka; default confluent")
]
ServiceOption = Annotated[list[str] | None, typer.Option(help="Start only these services")]
ReplicasOption = Annotated[
    list[str] | None,
    typer.Option(help="SERVICE=N processes of a stage, e.g. national-check=2 (default: FSEFLOW_REPLICAS)"),
]
PortOption = Annotated[
    list[str] | None,
    typer.Option(
        "--port",
        help="NAME=PORT instead of a documented port, e.g. kafka=29092 or national-check-2=9222 "
        "(default: FSEFLOW_PORTS, comma-separated)",
    ),
]
BrokerOption = Annotated[
    str | None,
    typer.Option(
        envvar="FSEFLOW_BROKER",
        help="tansu (embedded, memory only, no Java; the default) or kafka (Apache Kafka, KRaft, "
        "SASL/SCRAM and ACLs; `make kafka` first)",
    ),
]
BrokersOption = Annotated[
    int | None,
    typer.Option(envvar="FSEFLOW_BROKERS", help="Kafka nodes: 1, or 3 (a quorum, replication factor 3)"),
]
ImageOption = Annotated[
    str | None,
    typer.Option(
        help="Run every service as a container of this image (make image), with podman on the host's "
        "network; the broker, PostgreSQL and the tools stay on the host",
    ),
]
AnyFreePortOption = Annotated[
    bool,
    typer.Option(
        envvar="FSEFLOW_ANY_FREE_PORT",
        help="Take free ports the system chooses instead of the documented ones (temporary stacks)",
    ),
]


@app.command()
def up(
    kafka_client: KafkaClientOption = None,
    service: ServiceOption = None,
    replicas: ReplicasOption = None,
    port: PortOption = None,
    any_free_port: AnyFreePortOption = False,
    broker: BrokerOption = None,
    brokers: BrokersOption = None,
    image: ImageOption = None,
) -> None:
    """Start the embedded stack (Tansu or Apache Kafka, PostgreSQL, every service), or what is down
    of it, and wait until it is ready.

    On a recorded stack whose broker and database run, only the stopped processes start again,
    on the same ports and data; with everything running, it says so. It never deletes data: if
    Tansu (memory only) has died, it says what `fseflow reset` would delete and exits 1.
    On Apache Kafka (--broker kafka) the data stays on disk: after `fseflow down`, `up` starts the
    same nodes on it again.
    With KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, start only the services, against those.
    """
    _bring_up(kafka_client, service, replicas, port, any_free_port, broker, brokers, image, reset=False)


@app.command()
def reset(
    kafka_client: KafkaClientOption = None,
    service: ServiceOption = None,
    replicas: ReplicasOption = None,
    port: PortOption = None,
    any_free_port: AnyFreePortOption = False,
    broker: BrokerOption = None,
    brokers: BrokersOption = None,
    image: ImageOption = None,
) -> None:
    """Stop the embedded stack, delete its data (saying what) and start an empty one afresh."""
    _bring_up(kafka_client, service, replicas, port, any_free_port, broker, brokers, image, reset=True)


def _bring_up(
    kafka_client: str | None,
    service: list[str] | None,
    replicas: list[str] | None,
    port: list[str] | None,
    any_free_port: bool,
    broker: str | None,
    brokers: int | None,
    image: str | None,
    *,
    reset: bool,
) -> None:
    unknown = [n for n in service or () if n not in stack.SERVICE_MODULES]
    if unknown:
        _fail(
            f"--service: unknown service(s) {', '.join(unknown)}; "
            f"services: {', '.join(stack.SERVICE_MODULES)}",
            2,
        )
    if kafka_client not in (None, "confluent", "aiokafka"):
        _fail(f"--kafka-client {kafka_client!r}: expected confluent or aiokafka", 2)
    if broker not in (None, *stack.EMBEDDED_BROKERS):
        _fail(f"--broker {broker!r}: expected {' or '.join(stack.EMBEDDED_BROKERS)}", 2)
    if brokers not in (None, *stack.KAFKA_NODE_COUNTS):
        _fail(f"--brokers {brokers}: expected 1 or 3 (a KRaft quorum)", 2)
    counts = _replicas(replicas)
    ports = _ports(port)
    embedded = _stack(any_free_port)
    if reset:
        if embedded.load() is None:
            err.print("No stack recorded: nothing to delete.")
        else:
            _say_down(embedded.down(wipe=True))
    started = time.perf_counter()
    try:
        outcome = embedded.ensure_up(
            kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            database_url=os.environ.get("DATABASE_URL") or None,
            services=tuple(service) if service else None,
            replicas=counts,
            kafka_client=kafka_client,
            ports=ports,
            progress=True,
            broker=broker,
            brokers=brokers,
            image=image,
        )
    except stack.FAILURES as exc:
        _fail(str(exc))
    took = f"{time.perf_counter() - started:.1f}s"
    if outcome.fresh:
        err.print(f"[green]ready in {took}[/green]; logs in {embedded.logs}", highlight=False)
    elif outcome.started:
        err.print(f"[green]started again: {', '.join(outcome.started)}; ready in {took}", highlight=False)
    else:
        err.print("[green]everything is already running[/green] (nothing to start)", highlight=False)
    _print_status(embedded.status(outcome.state))


def _replicas(values: list[str] | None) -> dict[str, int] | None:
    """["national-check=2"] -> {"national-check": 2}; FSEFLOW_REPLICAS holds the default; None
    when neither says anything."""
    text = values or [v for v in os.environ.get("FSEFLOW_REPLICAS", "").split(",") if v]
    if not text:
        return None
    counts: dict[str, int] = {}
    for item in text:
        name, _, number = item.partition("=")
        if name not in stack.SCALABLE:
            _fail(
                f"--replicas {item!r}: SERVICE=N with SERVICE one of {', '.join(sorted(stack.SCALABLE))}", 2
            )
        if not number.isascii() or not number.isdigit() or int(number) < 1:
            _fail(f"--replicas {item!r}: N is a number of processes, 1 or more", 2)
        counts[name] = int(number)
    return counts


def _ports(values: list[str] | None) -> dict[str, int] | None:
    """["kafka=29092"] -> {"kafka": 29092}; FSEFLOW_PORTS holds the default; None when unset."""
    from fseflow_tools.stack_ports import DEFAULT_PORTS, parse_overrides

    text = values or [v for v in os.environ.get("FSEFLOW_PORTS", "").split(",") if v]
    if not text:
        return None
    replicas = {f"{s}-{n}" for s in (*stack.SCALABLE, "kafka", "kafka-controller") for n in range(2, 10)}
    try:
        return parse_overrides(text, {*DEFAULT_PORTS, *replicas})
    except ValueError as exc:
        _fail(str(exc), 2)


@app.command()
def down(
    wipe: Annotated[
        bool, typer.Option(help="Also delete the data (database, Scor documents, broker data)")
    ] = False,
) -> None:
    """Stop the embedded stack (services first, gracefully).

    Tansu keeps its topics in memory only: stopping it loses them, so the database and the Scor
    documents are deleted with them (and this says so), --wipe or not. On a durable broker the
    data stays for the next `fseflow up` unless --wipe.
    """
    embedded = _stack()
    if embedded.load() is None:
        err.print("Nothing to stop.")
        return
    _say_down(embedded.down(wipe=wipe))


def _say_down(outcome: stack.DownOutcome) -> None:
    err.print(f"stopped: {', '.join(outcome.stopped) or 'nothing was running'}", highlight=False)
    if outcome.deleted:
        why = f" ({outcome.forced_by})" if outcome.forced_by else ""
        err.print(f"deleted: {'; '.join(outcome.deleted)}{why}", highlight=False, markup=False)
    else:
        err.print("the data is kept for the next `fseflow up` (`fseflow down --wipe` deletes it)")


@app.command()
def restart(
    name: Annotated[
        str,
        typer.Argument(
            metavar="SERVICE", help="An instance (national-check-2) or a service (all its instances)"
        ),
    ],
    grace: Annotated[
        float, typer.Option(min=0, help="Seconds to finish work in flight before SIGKILL")
    ] = 30.0,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for /readyz")] = 90.0,
    instance: Annotated[
        bool,
        typer.Option(
            "--instance", help="Only the process of that name (national-check, not national-check-2)"
        ),
    ] = False,
) -> None:
    """Restart one process, or every process of a service: SIGTERM (graceful, bounded), start again
    on the same ports and environment, wait until ready. `kafka` restarts every Apache Kafka node
    in turn (each back in sync before the next stops), `kafka-2` one node."""
    embedded = _stack()
    state = embedded.load()
    if state is not None and state.broker_kind == stack.BROKER_KAFKA and name.startswith("kafka"):
        _restart_kafka(embedded, state, name, grace, timeout)
        return
    before = {n: p.pid for n, p in state.services.items()} if state else {}
    started = time.perf_counter()
    try:
        state, names = embedded.restart(name, grace=grace, timeout=timeout, instance_only=instance)
    except stack.UnknownProcess as exc:
        _fail(str(exc), 2)
    except stack.FAILURES as exc:
        _fail(str(exc))
    pids = ", ".join(f"{n} pid {before.get(n)} -> {state.services[n].pid}" for n in names)
    err.print(
        f"[green]restarted[/green] {pids}; ready in {time.perf_counter() - started:.1f}s", highlight=False
    )


def _restart_kafka(
    embedded: stack.Stack, state: stack.StackState, name: str, grace: float, timeout: float
) -> None:
    number = name.removeprefix("kafka").removeprefix("-")
    ids = [n.node_id for n in state.kafka_nodes] if not number else [int(number) if number.isdigit() else -1]
    started = time.perf_counter()
    try:
        for node_id in ids:
            before = embedded.kafka_node(state, node_id).pid
            embedded.stop_kafka_node(state, node_id, wait=grace)
            embedded.start_kafka_node(state, node_id, timeout)
            err.print(
                f"kafka-{node_id} pid {before} -> {embedded.kafka_node(state, node_id).pid}", highlight=False
            )
    except stack.UnknownProcess as exc:
        _fail(str(exc), 2)
    except stack.FAILURES as exc:
        _fail(str(exc))
    err.print(f"[green]restarted[/green] in {time.perf_counter() - started:.1f}s, every partition in sync")


def _print_status(document: dict[str, Any]) -> None:
    """Addresses as plain lines (never cut or wrapped: they are copied), processes in a table."""
    broker, database = document["broker"], document["database"]

    def line(label: str, text: str) -> None:
        out.print(f"{label:<11} {text}", soft_wrap=True, highlight=False, markup=False)

    line("stack", document["home"])
    memory = "" if broker["keeps_data"] else ", memory only"
    nodes = broker.get("nodes") or []
    if len(nodes) > 1:
        memory += f", {len(nodes)} nodes, replication factor {broker['replication_factor']}"
    line(
        "broker",
        f"{broker['bootstrap']} ({broker['kind']}{memory}"
        + (
            f", pid {broker['pid']}, {'running' if broker['alive'] else 'NOT RUNNING'})"
            if broker["pid"]
            else ")"
        ),
    )
    where = f"embedded, {database['data']}" if database["embedded"] else "external"
    line("database", f"{database['url']} ({where}{'' if database['alive'] else ', NOT RUNNING'})")
    if document["ingest_address"]:
        line("ingest", f"gRPC {document['ingest_address']}")
    if document["scor_address"] and "scor-store" in document["processes"]:
        line("scor-store", f"gRPC (mTLS) {document['scor_address']}")
    if document["console_url"]:
        line("console", document["console_url"])
    if document.get("service_image"):
        line("containers", f"every service in {document['service_image']} (podman ps --filter name=fseflow-)")
    table = Table()
    for column in ("process", "pid", "running", "ready", "ports"):
        table.add_column(column, no_wrap=column != "ports")
    for name, process in document["processes"].items():
        ports = ", ".join(f"{kind} {number}" for kind, number in process["ports"].items())
        ready = "yes" if process["ready"] is True else "no"
        table.add_row(name, str(process["pid"]), "yes" if process["alive"] else "NO", ready, ports)
    out.print(table)
    for node in nodes:
        if not node["alive"]:
            line(f"kafka-{node['id']}:", f"NOT RUNNING (pid {node['pid']}, port {node['port']})")
    for name, process in document["processes"].items():
        if process["alive"] and process["ready"] is not True:
            line(f"{name}:", f"not ready: {process['ready']}")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable: one JSON document")] = False,
) -> None:
    """Show the embedded stack: broker, database, addresses, and each process's pid, ports and
    readiness (--json: the same, machine-readable). Exit 0 when everything runs, 3 when a
    recorded process does not (as `systemctl status`), 1 when there is no stack."""
    embedded = _stack()
    state = embedded.load()
    if state is None:
        if as_json:  # a script reading stdout still gets a document
            sys.stdout.write(json.dumps({"home": str(embedded.home), "stack": None}) + "\n")
        _fail("No stack (run `fseflow up`).")
    document = embedded.status(state)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print_status(document)
    from fseflow_tools.stack_state import not_running

    down = not_running(state, embedded.liveness(state))
    if down:
        err.print(
            f"not running: {', '.join(down)} (`fseflow up` starts them again, or says why not)",
            highlight=False,
        )
        raise typer.Exit(EXIT_NOT_RUNNING)


def shell_exports(values: dict[str, str]) -> str:
    """``export K=V`` lines, each value quoted for a POSIX shell."""
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in values.items())


@app.command()
def env() -> None:
    """Print the environment that points clients at the running stack (eval "$(fseflow env)")."""
    state = _stack().running()
    if state is None:
        _fail("No running stack.")
    if state.broker_kind == stack.BROKER_KAFKA:
        err.print("# Apache Kafka: these are the admin's credentials (a super user), for operators' tools")
    # Plain writes: a rich console would wrap long values at 80 columns when not on a terminal.
    sys.stdout.write(shell_exports(state.env()))


@app.command()
def certs(
    directory: Annotated[Path | None, typer.Option("--dir", help="Default: $FSEFLOW_HOME/certs")] = None,
    technician: Annotated[
        list[str] | None, typer.Option(help="ORGANISM (RR-CCC) of a caisse technician")
    ] = None,
    professional: Annotated[list[str] | None, typer.Option(help="Professional id (PS)")] = None,
) -> None:
    """Create the development CA, scor-store's and the services' certificates (if missing), and
    certificates for technicians and professionals, each carrying its habilitation (R14)."""
    from fseflow_tools import dev_ca

    try:  # every id checked before any file is written
        for organism in technician or []:
            topics.check_organism(organism)
    except ValueError as exc:
        _fail(f"--technician: {exc}", 2)
    try:
        for ps in professional or []:
            dev_ca.check_ps_id(ps)
    except dev_ca.CertificateError as exc:
        _fail(f"--professional: {exc}", 2)
    target = directory or stack.default_home() / "certs"
    ca = dev_ca.development_set(target)
    made = [
        dev_ca.issue(ca, target, f"technician-{organism}", role="technician", organism=organism)
        for organism in technician or []
    ] + [
        dev_ca.issue(ca, target, f"professional-{ps}", role="professional", ps_id=ps)
        for ps in professional or []
    ]
    for issued in made:
        out.print(f"{issued.cert}  {issued.key}", highlight=False)
    err.print(f"certificates in {target} (CA: {ca.cert})")


# -- reference data, topics, clock ---------------------------------------------------------------


@refdata_app.command("load")
def refdata_load() -> None:
    """Load the shipped reference data (nomenclature, organisms, CTI table) into PostgreSQL."""
    from fseflow.db import create_pool
    from fseflow.vocabulary import refdata

    with running_system(start_if_missing=False) as system:

        async def _load() -> dict[str, int]:
            pool = await create_pool(system.database_url, max_size=2)
            try:
                return await refdata.load(pool)
            finally:
                await pool.close()

        counts = asyncio.run(_load())
    err.print("loaded: " + ", ".join(f"{table} {n}" for table, n in counts.items()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply every component's missing migrations (what each service does for its own schema at
    start-up): the setup Job of deploy/k8s runs it before a release rolls out."""
    from fseflow_tools.migrations import migrate_all

    with running_system(start_if_missing=False) as system:
        applied = asyncio.run(migrate_all(system.database_url))
    err.print("migrations applied: " + ", ".join(f"{component} {n}" for component, n in applied.items()))


@topics_app.command("doc")
def topics_doc() -> None:
    """Print docs/topics.md, generated from the registry."""
    sys.stdout.write(topics.render_markdown())


@topics_app.command("create")
def topics_create() -> None:
    """Create every registered topic (idempotent)."""
    from fseflow.kafka.factory import KafkaFactory

    with running_system(start_if_missing=False) as system:
        counts = asyncio.run(KafkaFactory(system.kafka, "fseflow-cli").ensure_topics(topics.ALL_TOPICS))
    for name, partitions in counts.items():
        out.print(f"{name}: {partitions} partition(s)")


@clock_app.command("close")
def clock_close(
    day: Annotated[
        str,
        typer.Option(
            help="Business day to close, YYYY-MM-DD, or `today` in Europe/Paris (on a weekend or a "
            "holiday, `today` closes nothing and exits 0)"
        ),
    ],
    world: Annotated[str, typer.Option(help="World (namespace)")] = "default",
) -> None:
    """Close a business day: what the daily CronJob does in production (`--day today`)."""
    from fseflow.business_clock import day_closed_record
    from fseflow.kafka.factory import KafkaFactory
    from fseflow_tools.closing_day import day_to_close, today

    try:
        to_close = day_to_close(day)
    except ValueError as exc:
        _fail(f"--day: {exc}", 2)
    if to_close is None:
        err.print(f"nothing to close: today ({today().isoformat()}, Europe/Paris) is not a business day")
        return
    closed = to_close
    day = closed.isoformat()
    with running_system(start_if_missing=False) as system:
        _check_world(system, world)

        async def _close() -> None:
            kafka = KafkaFactory(system.kafka, "fseflow-clock")
            producer = kafka.producer()
            await producer.start()
            try:
                await producer.send([day_closed_record(kafka.names(topics.CLOCK), world, closed)])
            finally:
                await producer.stop()

        asyncio.run(_close())
    err.print(f"closed {day} for world {world}")


def _check_world(system: Endpoints, world: str | None) -> None:
    """Exit 2 naming the latest worlds when ``world`` was never seen."""
    from fseflow.world import UnknownWorld, check_known

    if world is None:
        return
    try:
        asyncio.run(check_known(system.database_url, world))
    except UnknownWorld as exc:
        _fail(str(exc), 2)


# -- scenarios and replay -------------------------------------------------------------------------


@scenario_app.command("schema")
def scenario_schema() -> None:
    """Print the JSON Schema of scenario files."""
    from fseflow_tools.replay.scenario import schema

    sys.stdout.write(json.dumps(schema(), indent=2, ensure_ascii=False) + "\n")


def _load_or_exit(path: Path) -> Any:
    from fseflow_tools.replay.scenario import InvalidScenario, load

    try:
        return load(path)
    except FileNotFoundError:
        err.print(f"[red]{path}: no such file")
        raise typer.Exit(EXIT_INVALID_SCENARIO) from None
    except InvalidScenario as exc:
        err.print(f"[red]{path}: invalid scenario, nothing was sent ({len(exc.problems)} problem(s)):")
        for problem in exc.problems:
            err.print(f"  {problem}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INVALID_SCENARIO) from None


@scenario_app.command("validate")
def scenario_validate(path: Path) -> None:
    """Validate a scenario file (exit 2 with every problem and its JSON path)."""
    scenario = _load_or_exit(path)
    err.print(f"{path}: valid ({len(scenario.events)} events)")


def replay_with_progress(
    scenario: Any, system: Endpoints, *, show: bool, day_timeout: float = 180.0
) -> tuple[dict[str, Any], Any]:
    """Replay with a progress bar; on failure (stack gone, timeout, unreachable service) one line
    on stderr and exit EXIT_REPLAY_FAILED."""
    from fseflow_tools.replay.driver import Replay

    # A live bar on a terminal; elsewhere (a log, CI) a plain line per business day done, at
    # most about twenty in all (a ten-month replay has two hundred days).
    live = show and err.is_terminal
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not live,
        transient=False,
    ) as bar:
        task = bar.add_task("business days", total=None, detail="")
        days_printed = 0

        def on_progress(p: Any) -> None:
            nonlocal days_printed
            detail = f"{p.day} · lots {p.lots_sent} · FSE sent {p.fse_sent} · classified {p.fse_classified}"
            bar.update(task, total=p.days_total, completed=p.days_done, detail=detail)
            every = max(1, p.days_total // 20)
            due = p.days_done % every == 0 or p.days_done == p.days_total
            if show and not live and p.days_done > days_printed and due:
                days_printed = p.days_done
                err.print(f"business day {p.days_done}/{p.days_total} done: {detail}", highlight=False)

        replay = Replay(scenario, system, progress=on_progress, day_timeout=day_timeout)
        embedded = _stack()
        state = _embedded_state(embedded, system)
        watch = (lambda: embedded.gone(state)) if state is not None else None
        try:
            results = asyncio.run(_run_watched(replay, watch))
        except _replay_failures() as exc:
            bar.stop()
            _fail(f"replay failed: {_one_line(exc)}", EXIT_REPLAY_FAILED)
    return results, replay


async def _run_watched(replay: Any, watch: Callable[[], str | None] | None) -> dict[str, Any]:
    """``replay.run()``; with ``watch``, cancelled within a second once it names why the stack
    can no longer be used (stopped, its broker or database gone)."""
    from fseflow_tools.replay.driver import ReplayFailed

    task: asyncio.Task[dict[str, Any]] = asyncio.ensure_future(replay.run())
    while watch is not None:
        done, _ = await asyncio.wait({task}, timeout=1.0)
        if done:
            break
        reason = watch()
        if reason is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 30)  # its clean-up: connections, consumer
            raise ReplayFailed(f"the stack went away mid-run: {reason}")
    return await task


def _replay_failures() -> tuple[type[BaseException], ...]:
    import aiohttp
    import asyncpg
    import grpc
    from confluent_kafka import KafkaException

    from fseflow_tools.replay.driver import ReplayFailed

    return (
        ReplayFailed,
        TimeoutError,
        OSError,
        grpc.RpcError,
        aiohttp.ClientError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        KafkaException,
    )


def _one_line(exc: BaseException) -> str:
    import grpc

    if isinstance(exc, grpc.aio.AioRpcError):
        return f"ingest answered {exc.code().name}: {exc.details()}"
    text = " ".join(str(exc).split())
    from fseflow_tools.replay.driver import ReplayFailed

    return text if isinstance(exc, ReplayFailed) else f"{type(exc).__name__}: {text or 'no detail'}"


def _write_results(results: dict[str, Any], out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


@app.command()
def replay(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    out_path: Annotated[Path, typer.Option("--out", help="Results file to write")],
    quiet: Annotated[bool, typer.Option(help="No progress bar")] = False,
    day_timeout: Annotated[
        float, typer.Option(help="Seconds a business day may take through every stage before giving up")
    ] = 180.0,
) -> None:
    """Replay a scenario through the services and write the results file (the replay contract).

    Starts the embedded stack when KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are not set (and stops
    it after; a recorded stack that had stopped is started again and left running). Exit 2 on an
    invalid scenario or option (nothing is sent), 3 if an FSE got no verdict, 4 if the replay could
    not finish (stack gone, timeout, a service unreachable).
    """
    scenario = _load_or_exit(scenario_path)
    _writable(out_path, "--out")
    if day_timeout <= 0:
        _fail(f"--day-timeout: a number of seconds above 0, got {day_timeout:g}", 2)
    with running_system(start_if_missing=True, quiet=quiet) as system:
        results, run = replay_with_progress(scenario, system, show=not quiet, day_timeout=day_timeout)
    _write_results(results, out_path)
    err.print(
        f"{results['totals']['fse']} distinct FSE replayed in {run.elapsed_s:.1f}s (an FSE sent again "
        f"counts once); results in {out_path}",
        highlight=False,
    )
    for note in results.get("notes", []):
        err.print(f"[yellow]note:[/yellow] {note}")
    if results.get("lost"):
        err.print(f"[red]{len(results['lost'])} FSE got no verdict: see the dlq.* topics and service logs")
        raise typer.Exit(EXIT_INCOMPLETE)


# -- a caisse's flow -------------------------------------------------------------------------------


def _print_flushed(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@app.command()
def subscribe(
    organism: Annotated[str, typer.Argument(help="The organism (RR-CCC), e.g. 01-331")],
    kind: Annotated[
        list[str] | None, typer.Option(help="Only these topics of the family (fse, decisions, payments...)")
    ] = None,
    world: Annotated[str | None, typer.Option(help="Only this world's events")] = None,
    from_beginning: Annotated[bool, typer.Option(help="Replay the topics from their start")] = False,
    idle_exit: Annotated[
        float | None,
        typer.Option(min=0, help="Exit after this many seconds without an event (default: never)"),
    ] = None,
    days: Annotated[bool, typer.Option(help="Also print the pôle's day closures")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event")] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            help="The caisse's client properties (`fseflow caisse grant`): connect with those "
            "credentials only, no database, a group under caisse.RR-CCC."
        ),
    ] = None,
) -> None:
    """Print one organism's flow live, from its own caisse.RR-CCC.* topics only."""
    from fseflow.kafka.factory import KafkaFactory
    from fseflow_tools.subscribe import subscribe as run_subscription

    try:
        topics.check_organism(organism)
        for name in kind or ():
            topics.caisse_topic(organism, name)
    except (ValueError, KeyError) as exc:
        err.print(f"[red]{exc}: kinds are {', '.join(topics.CAISSE_KINDS)}")
        raise typer.Exit(2) from None
    client = f"fseflow-subscribe-{organism}"
    if config is not None:
        from fseflow_tools import caisse_access

        try:
            settings = caisse_access.settings_from_properties(caisse_access.read_properties(config), config)
        except (OSError, ValueError) as exc:
            _fail(f"--config: {exc}", 2)
        factory = KafkaFactory(settings, client)
        _run_subscription(
            run_subscription,
            factory,
            organism,
            kinds=kind or topics.CAISSE_KINDS,
            world=world,
            start_from="beginning" if from_beginning else "end",
            idle_exit_s=idle_exit,
            show_days=days,
            as_json=as_json,
            write=_print_flushed,
            group_id=caisse_access.subscriber_group(organism),
            check_access=functools.partial(caisse_access.check_access, factory),
        )
        return
    with running_system(start_if_missing=False) as system:
        _check_world(system, world)
        _run_subscription(
            run_subscription,
            KafkaFactory(system.kafka, client),
            organism,
            kinds=kind or topics.CAISSE_KINDS,
            world=world,
            start_from="beginning" if from_beginning else system.read_from,
            idle_exit_s=idle_exit,
            show_days=days,
            as_json=as_json,
            write=_print_flushed,
        )


def _run_subscription(run: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Until interrupted; an authorisation or connection error in one line, exit 1."""
    from confluent_kafka import KafkaException

    from fseflow.kafka.factory import TopicSetupError
    from fseflow_tools.caisse_access import AccessRefused

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(*args, **kwargs))
    except AccessRefused as exc:
        _fail(f"subscribe: {exc}")
    except (KafkaException, TopicSetupError, LookupError) as exc:
        _fail(f"subscribe: {_one_line(exc)}")


# -- demo -----------------------------------------------------------------------------------------


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the generated world")] = 42,
    days: Annotated[int, typer.Option(help="Business days to simulate")] = 10,
    professionals: Annotated[int, typer.Option(help="Nurses in the world")] = 50,
    patients: Annotated[int, typer.Option(help="Patients in the world")] = 2000,
    out_dir: Annotated[Path, typer.Option(help="Where to write scenario.json and results.json")] = Path(
        "demo-output"
    ),
) -> None:
    """Generate a seeded world, replay it through the services, print a summary."""
    from fseflow_tools.demo import DemoShape, DemoTooSmall, generate
    from fseflow_tools.replay.scenario import parse

    _writable(out_dir, "--out-dir", directory=True)
    try:
        document = generate(
            DemoShape(seed=seed, business_days=days, professionals=professionals, patients=patients)
        )
    except DemoTooSmall as exc:
        _fail(str(exc), 2)
    scenario_file = out_dir / "scenario.json"
    scenario_file.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    scenario = parse(document, out_dir)
    fse_total = sum(len(lot["fse"]) for _, lot in scenario.lots())
    lots_total = sum(1 for _ in scenario.lots())
    err.print(
        f"world: {len(document['world']['organisms'])} organisms, {professionals} professionals, "
        f"{patients} patients; {days} business days, {fse_total} FSE in {lots_total} lots "
        f"(scenario: {scenario_file})",
        highlight=False,
    )
    with running_system(start_if_missing=True) as system:
        results, run = replay_with_progress(scenario, system, show=True)
    _write_results(results, out_dir / "results.json")
    print_summary(results, run.elapsed_s)
    err.print(f"results: {out_dir / 'results.json'}")


def print_summary(results: dict[str, Any], elapsed_s: float) -> None:
    from collections import Counter

    fse = results["fse"]
    by_outcome = Counter(e["classification"] or "lot refused" for e in fse.values())
    by_reason = Counter(r for e in fse.values() for r in e["reasons"])
    table = Table(title="Classifications")
    table.add_column("classification / reason")
    table.add_column("FSE", justify="right")
    table.add_column("share", justify="right")
    total = max(1, len(fse))
    for outcome in ("accord", "litigieuse", "rejet", "lot refused"):
        table.add_row(f"[bold]{outcome}", str(by_outcome[outcome]), f"{by_outcome[outcome] / total:.1%}")
    for reason, count in sorted(by_reason.items(), key=lambda kv: -kv[1]):
        table.add_row(f"  {reason}", str(count), f"{count / total:.1%}")
    out.print(table)

    per_cti: dict[int, Counter[str]] = {}
    for lot in results["lots"].values():
        per_cti.setdefault(lot["cti"], Counter())["lots"] += 1
    for entry in fse.values():
        if entry["classification"]:
            per_cti.setdefault(entry.get("cti", 0), Counter())[entry["classification"]] += 1
    cti_table = Table(title="Per national computer centre (CTI)")
    for column in ("CTI", "lots", "accord", "litigieuse", "rejet"):
        cti_table.add_column(column, justify="right")
    for cti, counts in sorted(per_cti.items()):
        label = str(cti) if cti else "none (refused)"
        cti_table.add_row(label, *(str(counts[c]) for c in ("lots", "accord", "litigieuse", "rejet")))
    out.print(cti_table)
    statuses = Counter(e["status"] for e in fse.values())
    pole = Table(title="At the pôles (where each FSE stands at the end of the replay)")
    pole.add_column("status")
    pole.add_column("FSE", justify="right")
    for status in ("paid", "validated", "pending_review", "rejected", "replaced", "lot_refused"):
        pole.add_row(status, str(statuses[status]))
    out.print(pole)
    matched = sum(1 for e in fse.values() if e["document_matched_on"])
    compagnon = sum(1 for n in results["notices"] if n["kind"] == "compagnon")
    out.print(
        f"{len(results['payments'])} payments, {results['totals']['paid']:,.2f} € paid; "
        f"{matched} FSE matched with a document; {compagnon} Compagnon notice(s)"
    )
    documents = results.get("documents", {})
    if documents:
        channels = Counter(d["channel"] for d in documents.values())
        exploitable = sum(1 for d in documents.values() if d["exploitable"])
        out.print(
            f"Scor: {len(documents)} documents stored on two supports ({channels['scor']} scanned by "
            f"professionals, {channels['paper']} on paper), {exploitable / len(documents):.1%} exploitable; "
            f"{len(results.get('aids', []))} quality aid(s)"
        )
    classified = sum(1 for e in fse.values() if e["classification"])
    totals = results["totals"]
    out.print(
        f"{len(fse)} distinct FSE ({classified} classified; one sent again counts once) in {elapsed_s:.1f}s: "
        f"[bold]{classified / elapsed_s:,.0f} FSE/s[/bold] end to end, business-day barriers included; "
        f"cost to the caisses {totals['cost_caisse']:.2f} €; "
        f"ARL notices {sum(1 for n in results['notices'] if n['kind'] == 'arl')}"
    )


@app.command()
def bench(
    fse: Annotated[int, typer.Option(min=1, help="FSE to push through SubmitLot")] = 200_000,
    lot_size: Annotated[
        int, typer.Option(min=1, max=999, help="FSE per lot (ingest takes 999 at most)")
    ] = 100,
    concurrency: Annotated[int, typer.Option(min=1, help="SubmitLot calls in flight")] = 16,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path("bench-results.json"),
) -> None:
    """Throughput and latency SubmitLot -> classified, with the raw broker baseline of the same run."""
    from fseflow_tools.bench import BenchConfig, run_bench

    _writable(out_path, "--out")
    with running_system(start_if_missing=True) as system:
        figures = asyncio.run(
            run_bench(system, BenchConfig(fse=fse, lot_size=lot_size, concurrency=concurrency), err)
        )
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")


@app.command("bench-brokers")
def bench_brokers(
    fse: Annotated[int, typer.Option(min=1, help="FSE to push through SubmitLot on each broker")] = 50_000,
    lot_size: Annotated[
        int, typer.Option(min=1, max=999, help="FSE per lot (ingest takes 999 at most)")
    ] = 100,
    concurrency: Annotated[int, typer.Option(min=1, help="SubmitLot calls in flight")] = 16,
    latency_seconds: Annotated[float, typer.Option(min=1, help="Seconds of the paced latency phase")] = 20.0,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path(
        "bench-brokers-results.json"
    ),
) -> None:
    """`fseflow bench` on Tansu and on one Apache Kafka node, each on a temporary stack of its
    own, in one table with the broker's CPU seconds per 100,000 FSE (`make kafka` first)."""
    from fseflow_tools.bench import BenchConfig
    from fseflow_tools.bench_brokers import compare

    _writable(out_path, "--out")
    config = BenchConfig(fse=fse, lot_size=lot_size, concurrency=concurrency, latency_seconds=latency_seconds)
    try:
        figures = compare(config, err)
    except stack.FAILURES as exc:
        _fail(str(exc))
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")


app.command()(chaos)

if __name__ == "__main__":
    app()
