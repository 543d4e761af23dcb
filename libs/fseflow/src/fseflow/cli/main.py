"""The ``fseflow`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sys
import time
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fseflow import calendar, stack, topics
from fseflow.cli import dlq as dlq_cli
from fseflow.endpoints import Endpoints, from_environment, from_stack

app = typer.Typer(
    help="fseflow: the French FSE claims pipeline, as microservices over Kafka.",
    no_args_is_help=True,
)
topics_app = typer.Typer(help="The topic registry.", no_args_is_help=True)
refdata_app = typer.Typer(help="National reference data.", no_args_is_help=True)
clock_app = typer.Typer(help="The business clock.", no_args_is_help=True)
scenario_app = typer.Typer(help="Scenario files (the replay contract).", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(refdata_app, name="refdata")
app.add_typer(clock_app, name="clock")
app.add_typer(scenario_app, name="scenario")
app.add_typer(dlq_cli.app, name="dlq")


def _plugins() -> None:
    """Commands services provide (``fseflow.commands`` entry points), e.g. ``fseflow scor``."""
    for entry in entry_points(group="fseflow.commands"):
        command = entry.load()
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=entry.name)  # a group: fseflow scor fsck ...
        else:
            app.command(name=entry.name)(command)  # one command: fseflow account PS_ID


_plugins()

err = Console(stderr=True)
out = Console()

EXIT_INVALID_SCENARIO = 2
EXIT_INCOMPLETE = 3


def _stack() -> stack.Stack:
    return stack.Stack()


@contextlib.contextmanager
def running_system(*, start_if_missing: bool, quiet: bool = False) -> Iterator[Endpoints]:
    """The system to talk to; the embedded stack is started (and stopped after) if needed."""
    found = from_environment(os.environ, _stack())
    if found is not None:
        yield found
        return
    if not start_if_missing:
        err.print("[red]No running stack: run `fseflow up`, or set KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL.")
        raise typer.Exit(1)
    embedded = _stack()
    if not quiet:
        err.print("[dim]No KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL: starting the embedded stack for this run.")
    state = embedded.up(progress=not quiet)
    try:
        yield from_stack(state)
    finally:
        if not quiet:
            err.print("[dim]Stopping the embedded stack started for this run.")
        embedded.down(state)


# -- stack ----------------------------------------------------------------------------------------


@app.command()
def up(
    kafka_client: Annotated[str, typer.Option(help="confluent (librdkafka) or aiokafka")] = "confluent",
    service: Annotated[list[str] | None, typer.Option(help="Start only these services")] = None,
    replicas: Annotated[
        list[str] | None, typer.Option(help="SERVICE=N processes of a stage, e.g. national-check=2")
    ] = None,
) -> None:
    """Start the embedded stack (Tansu, PostgreSQL, every service) and wait until it is ready.

    With KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, start only the services, against those.
    """
    names = tuple(service or stack.SERVICE_MODULES)
    unknown = [n for n in names if n not in stack.SERVICE_MODULES]
    if unknown:
        err.print(f"[red]unknown service(s): {', '.join(unknown)}")
        raise typer.Exit(2)
    counts = _replicas(replicas)
    embedded = _stack()
    if embedded.running() is not None:
        err.print("The stack is already running (`fseflow status`); `fseflow down` first to restart it.")
        raise typer.Exit(0)
    started = time.perf_counter()
    state = embedded.up(
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        database_url=os.environ.get("DATABASE_URL") or None,
        services=names,
        replicas=counts,
        kafka_client=kafka_client,
        progress=True,
    )
    err.print(f"[green]ready in {time.perf_counter() - started:.1f}s[/green]; logs in {embedded.logs}")
    _print_status(state)


def _replicas(values: list[str] | None) -> dict[str, int]:
    """["national-check=2"] -> {"national-check": 2}; FSEFLOW_REPLICAS holds the default."""
    text = values or [v for v in os.environ.get("FSEFLOW_REPLICAS", "").split(",") if v]
    counts: dict[str, int] = {}
    for item in text:
        name, _, number = item.partition("=")
        if name not in stack.SCALABLE or not number.isdigit() or int(number) < 1:
            err.print(
                f"[red]--replicas {item!r}: expected SERVICE=N with SERVICE in {sorted(stack.SCALABLE)}"
            )
            raise typer.Exit(2)
        counts[name] = int(number)
    return counts


@app.command()
def down() -> None:
    """Stop the embedded stack (services first, gracefully)."""
    embedded = _stack()
    if embedded.load() is None:
        err.print("Nothing to stop.")
        return
    embedded.down()
    err.print("stopped")


def _print_status(state: stack.StackState) -> None:
    table = Table(title=f"fseflow stack ({state.home})")
    for column in ("component", "pid", "alive", "ready", "address"):
        table.add_column(column)
    if state.embedded_kafka:
        table.add_row(
            "tansu",
            str(state.broker_pid),
            str(stack._alive(state.broker_pid)),
            "-",
            state.kafka_bootstrap_servers,
        )
    else:
        table.add_row("kafka (external)", "-", "-", "-", state.kafka_bootstrap_servers)
    table.add_row(
        "postgresql" + ("" if state.embedded_postgres else " (external)"),
        "-",
        "-",
        "-",
        state.database_url,
    )
    for name, service in state.services.items():
        ready = stack.readiness(service.metrics_port)
        address = f"metrics :{service.metrics_port}"
        if name == "ingest":
            address += f", gRPC {state.ingest_address}"
        if name == "pointage" and state.pointage_url:
            address += f", console {state.pointage_url}/console"
        table.add_row(name, str(service.pid), str(stack._alive(service.pid)), str(ready is True), address)
    out.print(table)


@app.command()
def status() -> None:
    """Show the embedded stack's processes, readiness and addresses."""
    state = _stack().load()
    if state is None:
        err.print("No stack (run `fseflow up`).")
        raise typer.Exit(1)
    _print_status(state)


@app.command()
def env() -> None:
    """Print the environment that points clients at the running stack (eval "$(fseflow env)")."""
    state = _stack().running()
    if state is None:
        err.print("No running stack.")
        raise typer.Exit(1)
    for key, value in state.env().items():
        out.print(f"export {key}={shlex.quote(value)}", highlight=False)


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
    from fseflow import pki

    target = directory or stack.default_home() / "certs"
    ca = pki.development_set(target)
    made = [
        pki.issue(ca, target, f"technician-{organism}", role="technician", organism=organism)
        for organism in technician or []
    ] + [
        pki.issue(ca, target, f"professional-{ps}", role="professional", ps_id=ps)
        for ps in professional or []
    ]
    for issued in made:
        out.print(f"{issued.cert}  {issued.key}", highlight=False)
    err.print(f"certificates in {target} (CA: {ca.cert})")


# -- reference data, topics, clock ---------------------------------------------------------------


@refdata_app.command("load")
def refdata_load() -> None:
    """Load the shipped reference data (nomenclature, organisms, CTI table) into PostgreSQL."""
    from fseflow import refdata
    from fseflow.db import create_pool

    with running_system(start_if_missing=False) as system:

        async def _load() -> dict[str, int]:
            pool = await create_pool(system.database_url, max_size=2)
            try:
                return await refdata.load(pool)
            finally:
                await pool.close()

        counts = asyncio.run(_load())
    err.print("loaded: " + ", ".join(f"{table} {n}" for table, n in counts.items()))


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
    day: Annotated[str, typer.Option(help="Business day to close, YYYY-MM-DD")],
    world: Annotated[str, typer.Option(help="World (namespace)")] = "default",
) -> None:
    """Close a business day: what the daily CronJob does in production."""
    from fseflow.business_clock import day_closed_record
    from fseflow.kafka.factory import KafkaFactory

    closed = calendar.parse_day(day)
    if not calendar.is_business_day(closed):
        err.print(f"[red]{day} is not a business day")
        raise typer.Exit(2)
    with running_system(start_if_missing=False) as system:

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


# -- scenarios and replay -------------------------------------------------------------------------


@scenario_app.command("schema")
def scenario_schema() -> None:
    """Print the JSON Schema of scenario files."""
    from fseflow.replay.scenario import schema

    sys.stdout.write(json.dumps(schema(), indent=2, ensure_ascii=False) + "\n")


def _load_or_exit(path: Path) -> Any:
    from fseflow.replay.scenario import InvalidScenario, load

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


def replay_with_progress(scenario: Any, system: Endpoints, *, show: bool) -> tuple[dict[str, Any], Any]:
    from fseflow.replay.driver import Replay

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=False,
    ) as bar:
        task = bar.add_task("business days", total=None, detail="")

        def on_progress(p: Any) -> None:
            bar.update(
                task,
                total=p.days_total,
                completed=p.days_done,
                detail=(
                    f"{p.day} · lots {p.lots_sent} · FSE sent {p.fse_sent} · classified {p.fse_classified}"
                ),
            )

        replay = Replay(scenario, system, progress=on_progress)
        results = asyncio.run(replay.run())
    return results, replay


def _write_results(results: dict[str, Any], out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


@app.command()
def replay(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    out_path: Annotated[Path, typer.Option("--out", help="Results file to write")],
    quiet: Annotated[bool, typer.Option(help="No progress bar")] = False,
) -> None:
    """Replay a scenario through the services and write the results file (the replay contract).

    Starts the embedded stack when KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are not set (and stops
    it after). Exit 2 on an invalid scenario (nothing is sent), 3 if an FSE got no verdict.
    """
    scenario = _load_or_exit(scenario_path)
    with running_system(start_if_missing=True, quiet=quiet) as system:
        results, run = replay_with_progress(scenario, system, show=not quiet)
    _write_results(results, out_path)
    err.print(
        f"{results['totals']['fse']} FSE replayed in {run.elapsed_s:.1f}s; results in {out_path}",
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
        float | None, typer.Option(help="Exit after this many seconds without an event (default: never)")
    ] = None,
    days: Annotated[bool, typer.Option(help="Also print the pôle's day closures")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event")] = False,
) -> None:
    """Print one organism's flow live, from its own caisse.RR-CCC.* topics only."""
    from fseflow.kafka.factory import KafkaFactory
    from fseflow.subscribe import subscribe as run_subscription

    try:
        topics.check_organism(organism)
        for name in kind or ():
            topics.caisse_topic(organism, name)
    except (ValueError, KeyError) as exc:
        err.print(f"[red]{exc}: kinds are {', '.join(topics.CAISSE_KINDS)}")
        raise typer.Exit(2) from None
    with running_system(start_if_missing=False) as system:
        kafka = KafkaFactory(system.kafka, f"fseflow-subscribe-{organism}")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                run_subscription(
                    kafka,
                    organism,
                    kinds=kind or topics.CAISSE_KINDS,
                    world=world,
                    start_from="beginning" if from_beginning else system.read_from,
                    idle_exit_s=idle_exit,
                    show_days=days,
                    as_json=as_json,
                    write=_print_flushed,
                )
            )


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
    from fseflow.demo import DemoShape, generate
    from fseflow.replay.scenario import parse

    document = generate(
        DemoShape(seed=seed, business_days=days, professionals=professionals, patients=patients)
    )
    out_dir.mkdir(parents=True, exist_ok=True)
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
        f"{len(fse)} FSE ({classified} classified) in {elapsed_s:.1f}s: "
        f"[bold]{classified / elapsed_s:,.0f} FSE/s[/bold] end to end, business-day barriers included; "
        f"cost to the caisses {totals['cost_caisse']:.2f} €; "
        f"ARL notices {sum(1 for n in results['notices'] if n['kind'] == 'arl')}"
    )


@app.command()
def bench(
    fse: Annotated[int, typer.Option(help="FSE to push through SubmitLot")] = 200_000,
    lot_size: Annotated[int, typer.Option(help="FSE per lot")] = 100,
    concurrency: Annotated[int, typer.Option(help="SubmitLot calls in flight")] = 16,
    out_path: Annotated[Path, typer.Option("--out", help="JSON figures")] = Path("bench-results.json"),
) -> None:
    """Throughput and latency SubmitLot -> classified, with the raw broker baseline of the same run."""
    from fseflow.bench import BenchConfig, run_bench

    with running_system(start_if_missing=True) as system:
        figures = asyncio.run(
            run_bench(system, BenchConfig(fse=fse, lot_size=lot_size, concurrency=concurrency), err)
        )
    out_path.write_text(json.dumps(figures, indent=2) + "\n")
    err.print(f"figures written to {out_path}")


if __name__ == "__main__":
    app()
