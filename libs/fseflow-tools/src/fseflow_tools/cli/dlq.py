"""``fseflow dlq``: list, show and re-drive the records services dead-lettered (fseflow/dlq.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from confluent_kafka import KafkaException

from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.watermarks import NotReadToEnd
from fseflow.topics import SERVICES
from fseflow_tools import dlq

app = typer.Typer(
    help="Dead letters: the records each service could not decode or process.", no_args_is_help=True
)

T = TypeVar("T")

ServiceArgument = Annotated[str, typer.Argument(help=f"One of {', '.join(SERVICES)}")]
TopicOption = Annotated[str | None, typer.Option("--topic", help="Only letters from this source topic")]
ErrorTypeOption = Annotated[
    str | None, typer.Option("--error-type", help="Only letters of this error type, e.g. DecodeError")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON")]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _checked(service: str) -> str:
    try:
        return dlq.check_service(service)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None


@contextmanager
def _kafka() -> Iterator[KafkaFactory]:
    from fseflow_tools.cli.main import running_system

    with running_system(start_if_missing=False, quiet=True) as system:
        yield KafkaFactory(system.kafka, "fseflow-dlq")


def _reading(read: Callable[[], T]) -> T:
    """``read()``, with the broker's failures said in one line."""
    try:
        return read()
    except LookupError as exc:
        raise _fail(f"{exc} (has the service ever started?)", 1) from None
    except NotReadToEnd as exc:
        raise _fail(str(exc), 1) from None
    except KafkaException as exc:
        raise _fail(f"cannot read from the broker: {exc}", 1) from None


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command("list")
def list_letters(
    service: Annotated[str | None, typer.Argument(help="One service (default: every one)")] = None,
    as_json: JsonOption = False,
) -> None:
    """How many dead letters each service has, by source topic and error type, oldest and newest."""
    services = [_checked(service)] if service else list(SERVICES)
    summaries = []
    with _kafka() as kafka:
        for name in services:
            try:
                summaries.append(dlq.summary(dlq.read_letters(kafka, name)))
            except LookupError:
                summaries.append({"service": name, "topic": None, "letters": 0})
            except (NotReadToEnd, KafkaException) as exc:
                raise _fail(f"{name}: {exc}", 1) from None
    if as_json:
        _print_json(summaries)
        return
    for item in summaries:
        typer.echo(_summary_lines(item))


def _summary_lines(item: dict[str, Any]) -> str:
    if item["topic"] is None:
        return f"{item['service']:<15} no dead-letter topic (the service never started)"
    if not item["letters"]:
        return f"{item['service']:<15} 0 letters"
    lines = [
        f"{item['service']:<15} {item['letters']} letter(s) in {item['topic']}, "
        f"oldest {item['oldest_failed_at']}, newest {item['newest_failed_at']}",
        "    from      " + ", ".join(f"{t} {n}" for t, n in item["by_source_topic"].items()),
        "    errors    " + ", ".join(f"{dlq.printable(e)} {n}" for e, n in item["by_error_type"].items()),
    ]
    notes = []
    if item["failed_again_after_redrive"]:
        notes.append(f"{item['failed_again_after_redrive']} failed again after a redrive")
    if item["repeated"]:
        notes.append(f"{item['repeated']} repeated (the same record dead-lettered twice)")
    if item["unreadable"]:
        notes.append(f"{item['unreadable']} record(s) not DeadLetter messages")
    if notes:
        lines.append("    note      " + "; ".join(notes))
    return "\n".join(lines)


def _newest_last(letter: dlq.StoredLetter) -> tuple[datetime, int, int]:
    try:
        failed = datetime.fromisoformat(letter.letter.failed_at)
    except ValueError:
        failed = datetime.min.replace(tzinfo=UTC)
    if failed.tzinfo is None:
        failed = failed.replace(tzinfo=UTC)
    return failed, letter.partition, letter.offset


@app.command("show")
def show(
    service: ServiceArgument,
    topic: TopicOption = None,
    error_type: ErrorTypeOption = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="The N most recent letters (0: all)")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Each letter: where it came from, the error, the key, headers and value (decoded when it can be)."""
    name = _checked(service)
    with _kafka() as kafka:
        scan = _reading(lambda: dlq.read_letters(kafka, name))
        names = kafka.names
    chosen = dlq.select(scan, names, topic=topic, error_type=error_type, include_redriven=True).letters
    chosen.sort(key=_newest_last)
    shown = chosen[-limit:] if limit else chosen
    if as_json:
        _print_json([dlq.describe(s, names) for s in shown])
        return
    if not shown:
        matching = " matching the filters" if topic or error_type else ""
        typer.echo(f"no dead letter in {scan.topic}{matching}")
        return
    typer.echo(f"{len(shown)} of {len(chosen)} letter(s) of {scan.topic}, oldest first")
    for stored in shown:
        typer.echo("")
        typer.echo("\n".join(dlq.render(stored, names)))


@app.command("redrive")
def redrive(
    service: ServiceArgument,
    topic: TopicOption = None,
    error_type: ErrorTypeOption = None,
    offset: Annotated[
        list[str] | None,
        typer.Option("--offset", help="A letter, PARTITION@OFFSET in the DLQ as `dlq show` prints it"),
    ] = None,
    include_redriven: Annotated[
        bool,
        typer.Option("--include-redriven", help="Also letters of records re-driven before that failed again"),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be re-driven, and do nothing")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Publish each selected letter's original record again to its source topic and partition,
    for the service to process it after a fix (already processed: nothing changes)."""
    name = _checked(service)
    with _kafka() as kafka:
        scan = _reading(lambda: dlq.read_letters(kafka, name))
        names = kafka.names
        try:
            selection = dlq.select(
                scan,
                names,
                topic=topic,
                error_type=error_type,
                positions=offset or (),
                include_redriven=include_redriven,
            )
        except ValueError as exc:
            raise _fail(str(exc), 2) from None
        refused = [(s, why) for s in selection.letters if (why := dlq.not_redrivable(s, name, names))]
        if refused:
            details = "; ".join(f"{s.position}: {why}" for s, why in refused)
            raise _fail(f"not re-driven (nothing was): {details}", 2)
        if not dry_run and selection.letters:
            asyncio.run(dlq.publish(kafka, dlq.redrive_records(selection.letters)))
    _report(scan, selection, dry_run=dry_run, as_json=as_json)


def _report(scan: dlq.Scan, selection: dlq.Selection, *, dry_run: bool, as_json: bool) -> None:
    done = "would re-drive" if dry_run else "re-drove"
    if as_json:
        _print_json(
            {
                "dry_run": dry_run,
                "redriven": [
                    {"letter": s.position, "source": s.source, "event_id": s.letter.event_id or None}
                    for s in selection.letters
                ],
                "skipped_redriven": [s.position for s in selection.skipped_redriven],
            }
        )
        return
    if not selection.letters:
        typer.echo(f"no letter of {scan.topic} to re-drive: none matches")
    for s in selection.letters:
        typer.echo(
            f"{done} {s.position}: {dlq.printable(s.source)} "
            f"({dlq.printable(s.letter.error_type)}, event {dlq.printable(s.letter.event_id) or '-'})"
        )
    if selection.letters:
        typer.echo(f"{done} {len(selection.letters)} letter(s) of {scan.topic}")
    if selection.skipped_redriven:
        typer.echo(
            f"left out {len(selection.skipped_redriven)} letter(s) of records already re-driven that "
            "failed again (--include-redriven, or name them with --offset)"
        )
