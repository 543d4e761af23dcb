"""``fseflow load``: the open-loop load generator (fseflow_tools.load) and ``load compare``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

app = typer.Typer(
    help="Open-loop load at a chosen rate against a deployment (or the embedded stack), with "
    "latency per stage, lag over time and a report (docs/load-testing.md).",
    invoke_without_command=True,
)

EXIT_BAD_OPTION = 2
EXIT_INCOMPLETE = 3
EXIT_FAILED = 4
PROFILES = ("constant", "step", "ramp", "national-day")


def _profile(
    profile: str,
    rate: float,
    duration: float,
    start_rate: float,
    step: float,
    step_every: float,
    max_rate: float,
    compress: float,
    days: int,
    daily_fse: float,
    start: Any,
) -> tuple[Any, str]:
    from fseflow_tools.load import profiles
    from fseflow_tools.load.national import national_day

    if profile == "constant":
        return profiles.constant(rate, duration, compress), f"constant {rate:,.0f} FSE/s for {duration:g}s"
    if profile == "ramp":
        return (
            profiles.ramp(start_rate, max_rate, duration, compress),
            f"ramp {start_rate:,.0f} -> {max_rate:,.0f} FSE/s over {duration:g}s",
        )
    if profile == "step":
        return (
            profiles.step(start_rate, step, step_every, max_rate, compress),
            f"step {start_rate:,.0f} FSE/s + {step:,.0f} every {step_every:g}s up to {max_rate:,.0f}",
        )
    built = national_day(compress, days, start, daily_fse)
    return built, (
        f"national-day: {days} working day(s) of {daily_fse:,.0f} FSE compressed {compress:g}x "
        f"({built.day_seconds:,.0f}s each, mean {daily_fse / built.day_seconds:,.0f} FSE/s)"
    )


@app.callback()
def load(
    ctx: typer.Context,
    profile: Annotated[str, typer.Option(help="constant, step, ramp or national-day")] = "constant",
    rate: Annotated[float, typer.Option(help="constant: offered FSE/s")] = 500.0,
    duration: Annotated[float, typer.Option(help="constant, ramp: seconds")] = 60.0,
    start_rate: Annotated[float, typer.Option(help="step, ramp: first rate, FSE/s")] = 1000.0,
    step: Annotated[float, typer.Option(help="step: FSE/s added at each step")] = 1000.0,
    step_every: Annotated[float, typer.Option(help="step: seconds per step")] = 60.0,
    max_rate: Annotated[float, typer.Option(help="step: last rate; ramp: final rate (FSE/s)")] = 20000.0,
    compress: Annotated[
        float, typer.Option(help="A business day lasts 86400/COMPRESS seconds (days close as the run goes)")
    ] = 200.0,
    days: Annotated[int, typer.Option(help="national-day: working days")] = 1,
    daily_fse: Annotated[
        float, typer.Option(help="national-day: FSE on an ordinary working day")
    ] = 5_000_000.0,
    workers: Annotated[
        int | None, typer.Option(help="Generator processes (default: one per core, max 8)")
    ] = None,
    professionals: Annotated[int, typer.Option(help="Professionals in the load world")] = 200,
    patients: Annotated[int, typer.Option(help="Patients in the load world")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the load world")] = 7,
    timeout: Annotated[
        float, typer.Option(help="Seconds a SubmitLot may take before it counts as failed")
    ] = 30.0,
    max_in_flight: Annotated[
        int, typer.Option(help="Calls in flight per worker (later sends wait, measured)")
    ] = 10_000,
    find_knee: Annotated[
        bool, typer.Option(help="step: stop at the first step not sustained; report the knee")
    ] = False,
    knee_p99: Annotated[
        float, typer.Option(help="--find-knee: p99 receipt -> classified limit, ms")
    ] = 2000.0,
    growing_windows: Annotated[
        int, typer.Option(help="--find-knee: windows of growing lag that fail a step")
    ] = 3,
    chain_messages: Annotated[
        int | None,
        typer.Option(help="Trivial-chain baseline messages (default 200,000 with --find-knee, else 0)"),
    ] = None,
    ceiling: Annotated[
        bool,
        typer.Option(
            help="First, the generator's own ceiling against a null endpoint (doubling steps of 2 s)"
        ),
    ] = True,
    ceiling_max_rate: Annotated[
        float, typer.Option(help="Highest FSE/s the ceiling search offers")
    ] = 128_000.0,
    classify_wait: Annotated[
        float, typer.Option(help="Seconds to wait after the last send for the verdicts")
    ] = 300.0,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for result.json, CSV, PNG, HTML")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No live view")] = False,
) -> None:
    """Send lots at an offered rate without waiting for answers (open loop), measure per 10 s
    window, close business days as the run goes, write the report.

    Targets come from the services' settings (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL,
    FSEFLOW_INGEST_ADDR, KAFKA_SASL_*; FSEFLOW_METRICS_URLS for CPU/RSS); without them, the
    running embedded stack, or one started for the run and stopped after. Exit 3 when FSE
    acknowledged were not all classified in time, 4 when the run could not go on.
    """
    if ctx.invoked_subcommand is not None:
        return
    from fseflow_tools.cli.main import _fail, _writable, err
    from fseflow_tools.cli.main import out as stdout
    from fseflow_tools.load.generator import default_workers
    from fseflow_tools.load.lots import WorldShape
    from fseflow_tools.load.profiles import ProfileError
    from fseflow_tools.load.run import LoadConfig

    if profile not in PROFILES:
        _fail(f"--profile {profile!r}: expected one of {', '.join(PROFILES)}", EXIT_BAD_OPTION)
    if find_knee and profile != "step":
        _fail("--find-knee: only with --profile step (the knee is searched over its steps)", EXIT_BAD_OPTION)
    for option, value in (
        ("--workers", workers),
        ("--max-in-flight", max_in_flight),
        ("--growing-windows", growing_windows),
    ):
        if value is not None and value < 1:
            _fail(f"{option}: at least 1, got {value}", EXIT_BAD_OPTION)
    if out is not None:
        _writable(out, "--out", directory=True)
    shape = WorldShape(seed=seed, professionals=professionals, patients=patients)
    try:
        built, description = _profile(
            profile,
            rate,
            duration,
            start_rate,
            step,
            step_every,
            max_rate,
            compress,
            days,
            daily_fse,
            shape.start,
        )
    except ProfileError as exc:
        _fail(str(exc), EXIT_BAD_OPTION)
    config = LoadConfig(
        built,
        description,
        workers or default_workers(),
        shape,
        timeout_s=timeout,
        max_in_flight=max_in_flight,
        find_knee=find_knee,
        knee_p99_ms=knee_p99,
        growing_windows=growing_windows,
        step_every_s=step_every,
        classify_wait_s=classify_wait,
        chain_messages=chain_messages if chain_messages is not None else (200_000 if find_knee else 0),
    )
    err.print(f"[bold]fseflow load[/bold]: {description}; {config.workers} worker(s)", highlight=False)
    result, missing = _run(config, ceiling_max_rate if ceiling else 0.0, quiet)
    _summary(result, stdout)
    if out is not None:
        for path in write_outputs(result, out):
            err.print(f"wrote {path}", highlight=False)
    if missing and find_knee:
        err.print(f"{missing:,} FSE acknowledged were still in the pipeline's backlog (the knee was passed)")
    elif missing:
        err.print(f"[red]{missing:,} FSE acknowledged were not classified within {classify_wait:g}s")
        raise typer.Exit(EXIT_INCOMPLETE)


def _run(config: Any, ceiling_max_rate: float, quiet: bool) -> tuple[dict[str, Any], int]:
    from fseflow_tools.cli.main import (
        _embedded_state,
        _fail,
        _one_line,
        _replay_failures,
        _stack,
        err,
        running_system,
    )
    from fseflow_tools.load.ceiling import measure_ceiling
    from fseflow_tools.load.generator import GeneratorFailed
    from fseflow_tools.load.live import LiveView
    from fseflow_tools.load.run import LoadRun
    from fseflow_tools.load.scrape import ENV, TargetsError, parse_targets

    ceiling = None
    if ceiling_max_rate > 0:
        err.print(
            f"generator ceiling: doubling rates up to {ceiling_max_rate:,.0f} FSE/s "
            "against a null endpoint..."
        )
        try:
            ceiling = asyncio.run(measure_ceiling(config.workers, ceiling_max_rate, 2.0, config.shape))
        except GeneratorFailed as exc:
            _fail(f"generator ceiling: {exc}", EXIT_FAILED)
        reached = ceiling["acked_fse_per_s"]
        err.print(f"generator ceiling: {reached or 0:,.0f} FSE/s acknowledged", highlight=False)
    with running_system(start_if_missing=True, quiet=quiet) as system:
        try:
            targets = parse_targets(os.environ.get(ENV, ""))
        except TargetsError as exc:
            _fail(str(exc), EXIT_BAD_OPTION)
        state = _embedded_state(_stack(), system)
        if not targets and state is not None:
            targets = {
                name: f"http://127.0.0.1:{p.metrics_port}/metrics" for name, p in state.services.items()
            }
        with LiveView(err, enabled=not quiet) as view:
            run = LoadRun(config, system, metrics_targets=targets, progress=view.update, ceiling=ceiling)
            failures: tuple[type[BaseException], ...] = (GeneratorFailed, *_replay_failures())
            try:
                outcome = asyncio.run(run.run())
            except failures as exc:
                _fail(f"load failed: {_one_line(exc)}", EXIT_FAILED)
    return outcome.result, outcome.missing


def _summary(result: dict[str, Any], console: Any) -> None:
    from fseflow_tools.load.report import summary_lines

    table = Table(title="fseflow load")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in summary_lines(result):
        table.add_row(label, value)
    console.print(table)


def write_outputs(result: dict[str, Any], directory: Path) -> list[Path]:
    """result.json, timeseries.csv, the PNG plots and report.html in ``directory``."""
    from fseflow_tools.load import report
    from fseflow_tools.load.result import write_csv, write_json

    written = [write_json(result, directory), write_csv(result, directory)]
    images = report.plots(result, directory)
    return [*written, *images, report.write_html(result, images, directory)]


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(metavar="A", help="result.json (or its directory)")],
    b: Annotated[Path, typer.Argument(metavar="B", help="result.json (or its directory)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for compare.png (default: B's directory)")
    ] = None,
) -> None:
    """Two results side by side (B against A), and one plot of both."""
    from fseflow_tools.cli.main import _fail, _writable, err
    from fseflow_tools.cli.main import out as stdout
    from fseflow_tools.load import compare as comparing
    from fseflow_tools.load.result import read_json

    try:
        first, second = read_json(a), read_json(b)
    except ValueError as exc:
        _fail(str(exc), EXIT_BAD_OPTION)
    folder = out if out is not None else (b if b.is_dir() else b.parent)
    _writable(folder, "--out", directory=True)
    table = Table(title=f"fseflow load compare: A = {a}, B = {b}")
    for column in ("figure", "A", "B", "B vs A"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in comparing.table(first, second):
        table.add_row(*row)
    stdout.print(table)
    target = folder / comparing.COMPARE_PNG
    comparing.plot(
        first, second, (a.stem if a.is_file() else a.name, b.stem if b.is_file() else b.name), target
    )
    err.print(f"wrote {target}", highlight=False)


@app.command("world")
def load_world(
    professionals: Annotated[int, typer.Option(min=1, help="Professionals in the load world")] = 200,
    patients: Annotated[int, typer.Option(min=1, help="Patients in the load world")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the load world")] = 7,
) -> None:
    """Load the load world into the running system's database and print its id (for Locust:
    deploy/load/locustfile.py sends the same lots as `fseflow load`)."""
    import sys
    import uuid

    from fseflow import world as world_data
    from fseflow.db import create_pool
    from fseflow_tools.cli.main import running_system
    from fseflow_tools.load.lots import WorldShape, build_world
    from fseflow_tools.replay.scenario import parse

    shape = WorldShape(seed=seed, professionals=professionals, patients=patients)
    world_id = f"load-{uuid.uuid4().hex[:8]}"
    scenario = parse(build_world(shape).document)
    with running_system(start_if_missing=False) as system:

        async def _load() -> None:
            pool = await create_pool(system.database_url, min_size=1, max_size=2)
            try:
                await world_data.load(
                    pool, world_id, scenario.world, name="fseflow load (locust)", start=shape.start
                )
            finally:
                await pool.close()

        asyncio.run(_load())
    sys.stdout.write(world_id + "\n")
