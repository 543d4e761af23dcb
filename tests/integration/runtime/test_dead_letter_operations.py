"""What an operator does with dead letters, against the running stack: see them (`fseflow dlq list`,
`show`), re-drive them after a fix (processed once however often they are re-driven; a record that
fails again is dead-lettered again, told apart, and not re-driven again unless asked), and watch
each service's DLQ depth metric."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner

from fseflow.codec import encode, event_id
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.cti.v1.ingest_pb2 import FseReceived
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter, RecordHeader
from fseflow.kafka.aiokafka_client import murmur2_partition
from fseflow.kafka.base import InRecord
from fseflow.kafka.watermarks import read_to_end
from fseflow.topics import FSE_CLASSIFIED, FSE_RECEIVED, dead_letter_topic
from fseflow_tools import dlq
from fseflow_tools.cli.main import app
from tests.conftest import RunningStack
from tests.integration.helpers import NIR, new_world, produce_raw, sheet

pytestmark = pytest.mark.integration

CHECK = "national-check"
DEPTH = "fseflow_dead_letter_topic_records"
POLLS = 120  # each poll below reads a topic or the metrics, then waits 0.5 s: about a minute


def fseflow(running: RunningStack, *args: str) -> str:
    """Run `fseflow ARGS` against the running stack; its standard output (exit status 0 asserted)."""
    env = {**running.state.env(), "FSEFLOW_HOME": str(running.stack.home)}
    result = CliRunner(env=env).invoke(app, list(args))
    assert result.exit_code == 0, f"fseflow {' '.join(args)}: {result.output}"
    return result.stdout


async def cli(running: RunningStack, *args: str) -> str:
    # In a thread: the command runs its own event loop.
    return await asyncio.to_thread(fseflow, running, *args)


async def cli_json(running: RunningStack, *args: str) -> Any:
    return json.loads(await cli(running, *args, "--json"))


async def letters_of(
    running: RunningStack,
    service: str,
    key: bytes,
    until: Callable[[list[dlq.StoredLetter]], bool] = bool,
) -> list[dlq.StoredLetter]:
    """The letters of ``key`` in ``service``'s DLQ, read again until ``until`` holds."""
    found: list[dlq.StoredLetter] = []
    for _ in range(POLLS):
        scan = await asyncio.to_thread(dlq.read_letters, running.kafka(), service)
        found = [s for s in scan.letters if s.letter.key == key]
        if until(found):
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{service}: letters of {key!r} never satisfied the wait: {found}")


def headers_of(type_name: str, ident: str | None = None) -> list[tuple[str, bytes]]:
    return [("ce_type", type_name.encode()), ("ce_id", (ident or str(uuid.uuid4())).encode())]


async def records_of(running: RunningStack, topic: str, key: bytes) -> list[InRecord]:
    config = running.kafka().confluent_config()
    every = await asyncio.to_thread(lambda: list(read_to_end(config, topic)))
    return [r for r in every if r.key == key]


def metric(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of the series ``name`` with these labels (and maybe others), if exposed."""
    for found in re.finditer(rf"^{name}(?:\{{(.*)\}})? (\S+)$", text, re.MULTILINE):
        if all(f'{k}="{v}"' in (found.group(1) or "") for k, v in labels.items()):
            return float(found.group(2))
    return None


async def metric_of(
    running: RunningStack,
    name: str,
    service: str,
    combine: Callable[..., float],
    labels: dict[str, str] | None = None,
) -> float:
    """``name`` over the instances of ``service`` (max: each reports the whole DLQ; sum: counters)."""
    texts = [await asyncio.to_thread(running.metrics, n) for n in running.instances(service)]
    values = [v for v in (metric(t, name, labels or {}) for t in texts) if v is not None]
    return combine(values) if values else -1.0


async def test_a_poison_record_is_listed_and_shown(running: RunningStack) -> None:
    names = running.kafka().names
    received, classified = names(FSE_RECEIVED), names(FSE_CLASSIFIED)
    before = {s["service"]: s for s in await cli_json(running, "dlq", "list")}
    undecodable = f"undecodable-{uuid.uuid4().hex}".encode()
    gironde = f"gironde-{uuid.uuid4().hex}".encode()
    bad_organism = FseClassified(world="w", fse_id=gironde.decode(), ps_organism="Gironde")
    await asyncio.to_thread(
        produce_raw,
        running,
        [
            (received, undecodable, headers_of("fseflow.cti.v1.FseReceived"), b"\xff\xff\xff\xff"),
            (
                classified,
                gironde,
                headers_of("fseflow.cti.v1.FseClassified"),
                bad_organism.SerializeToString(),
            ),
        ],
    )
    [not_protobuf] = await letters_of(running, CHECK, undecodable)
    [not_an_organism] = await letters_of(running, "pointage", gironde)

    after = {s["service"]: s for s in await cli_json(running, "dlq", "list")}
    expected = ((CHECK, received, "DecodeError"), ("pointage", classified, "MalformedEvent"))
    for service, topic, error in expected:
        was, now = before[service], after[service]
        assert now["letters"] >= was["letters"] + 1
        assert now["by_source_topic"][topic] >= was.get("by_source_topic", {}).get(topic, 0) + 1
        assert now["by_error_type"][error] >= was.get("by_error_type", {}).get(error, 0) + 1
        assert now["newest_failed_at"] >= now["oldest_failed_at"]

    shown = await cli_json(running, "dlq", "show", CHECK, "--topic", received, "--error-type", "DecodeError")
    [entry] = [e for e in shown if e["key"] == {"text": undecodable.decode()}]
    assert entry["source"] == {
        "topic": received,
        "partition": not_protobuf.letter.source_partition,
        "offset": not_protobuf.letter.source_offset,
    }
    assert entry["letter"]["id"] == not_protobuf.letter_id
    assert entry["error_type"] == "DecodeError" and "not a valid" in entry["error"]
    assert entry["value"]["size"] == 4 and entry["value"]["hex_preview"] == "ffffffff"
    assert {h["key"] for h in entry["headers"]} == {"ce_type", "ce_id"}

    shown = await cli_json(running, "dlq", "show", "pointage", "--limit", "0")
    [entry] = [e for e in shown if e["key"] == {"text": gironde.decode()}]
    assert entry["value"]["type"] == "fseflow.cti.v1.FseClassified"
    assert entry["value"]["message"]["ps_organism"] == "Gironde"
    assert entry["error_type"] == "MalformedEvent" and "ps_organism" in entry["error"]

    text = await cli(running, "dlq", "show", "pointage", "--topic", classified, "--limit", "0")
    assert f"letter {not_an_organism.position} of {not_an_organism.dlq_topic}" in text
    assert f"{classified}[{not_an_organism.letter.source_partition}]@" in text
    assert 'ps_organism: "Gironde"' in text


async def test_a_redriven_record_is_processed_once_however_often_it_is_redriven(
    running: RunningStack,
) -> None:
    """A valid FSE that national-check gave up on once (crafted: a letter as a transient failure
    would have left it), re-driven twice: one verdict, one verdict event id; the DLQ depth moves."""
    kafka = running.kafka()
    names = kafka.names
    world = await new_world(running)
    source = names(FSE_RECEIVED)
    key = f"{world}/{NIR}".encode()
    partition = murmur2_partition(key, kafka.settings.kafka_partitions)
    event = FseReceived(
        world=world,
        lot_id="lot-redrive",
        ps_id="ps-1",
        ps_organism="01-331",
        cti=3,
        received_on="2026-03-02",
        fse=sheet("fse-redriven", acts=1),
    )
    ident = event_id("fse-received", world, "lot-redrive", "fse-redriven")
    original = encode(event, topic=source, event_id=ident, source="ingest", key=key, partition=partition)
    source_offset = 10**12 + uuid.uuid4().int % 10**9  # never a real offset: a unique letter id
    letter = DeadLetter(
        service=CHECK,
        source_topic=source,
        source_partition=partition,
        source_offset=source_offset,
        key=key,
        value=original.value,
        headers=[RecordHeader(key=k, value=v) for k, v in original.headers or []],
        error_type="SimulatedOutage",
        error="the database went away mid-batch",
        event_id=ident,
        failed_at=datetime.now(UTC).isoformat(),
    )
    depth_before = await metric_of(running, DEPTH, CHECK, max, {"service": CHECK})
    dlq_topic = names(dead_letter_topic(CHECK))
    await asyncio.to_thread(
        produce_raw,
        running,
        [
            (
                dlq_topic,
                source.encode(),
                headers_of(
                    "fseflow.platform.v1.DeadLetter",
                    event_id("dead-letter", source, str(partition), str(source_offset)),
                ),
                letter.SerializeToString(),
            )
        ],
    )
    [stored] = await letters_of(running, CHECK, key, lambda found: len(found) == 1)

    for _ in range(POLLS):  # refreshed every DLQ_DEPTH_INTERVAL_S (10 s)
        depth = await metric_of(running, DEPTH, CHECK, max, {"service": CHECK})
        if depth >= max(depth_before, 0) + 1:
            break
        await asyncio.sleep(0.5)
    assert depth >= max(depth_before, 0) + 1, (depth_before, depth)

    classified = names(FSE_CLASSIFIED)
    taken_in = await consumed_by_the_pole(running, classified)
    result = await cli_json(running, "dlq", "redrive", CHECK, "--offset", stored.position)
    assert result["redriven"] == [
        {"letter": stored.position, "source": f"{source}[{partition}]@{source_offset}", "event_id": ident}
    ]
    verdict_key = f"{world}/fse-redriven".encode()
    verdicts = await _wait_records(running, classified, verdict_key, 1)
    assert FseClassified.FromString(verdicts[0].value).fse_id == "fse-redriven"

    redelivered = await metric_of(running, "fseflow_redelivered_events_total", CHECK, sum)
    await cli_json(running, "dlq", "redrive", CHECK, "--offset", stored.position)
    for _ in range(POLLS):
        if await metric_of(running, "fseflow_redelivered_events_total", CHECK, sum) > redelivered:
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("the second redrive never reached national-check")
    # The stored verdict is published again byte for byte, under the same event id.
    verdicts = await _wait_records(running, classified, verdict_key, 2)
    assert {r.header("ce_id") for r in verdicts} == {event_id("fse-classified", ident).encode()}
    assert len({r.value for r in verdicts}) == 1
    # The pôle took both copies in (at least; other tests' records may count too), and kept one.
    for _ in range(POLLS):
        if await consumed_by_the_pole(running, classified) >= taken_in + 2:
            break
        await asyncio.sleep(0.5)
    conn = await asyncpg.connect(running.state.database_url)
    try:
        stored_verdicts = await conn.fetchval(
            "SELECT count(*) FROM national_check.verdicts WHERE world = $1", world
        )
        at_the_pole = await conn.fetchval("SELECT count(*) FROM pointage.fse WHERE world = $1", world)
    finally:
        await conn.close()
    assert (stored_verdicts, at_the_pole) == (1, 1)
    # Both redrives: the original record, on its partition, marked with the letter it came from.
    redriven = await records_of(running, source, key)
    assert [(r.partition, r.value, r.header("ce_id")) for r in redriven] == [
        (partition, original.value, ident.encode())
    ] * 2
    assert {r.header(dlq.REDRIVE_HEADER) for r in redriven} == {stored.address.encode()}


async def consumed_by_the_pole(running: RunningStack, topic: str) -> float:
    return await metric_of(
        running, "fseflow_messages_consumed_total", "pointage", sum, {"service": "pointage", "topic": topic}
    )


async def _wait_records(running: RunningStack, topic: str, key: bytes, count: int) -> list[InRecord]:
    found: list[InRecord] = []
    for _ in range(POLLS):
        found = await records_of(running, topic, key)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"{topic}: {len(found)} records of {key!r}, expected {count}")


async def test_a_record_that_fails_again_gets_a_new_letter_and_is_not_redriven_again_unless_asked(
    running: RunningStack,
) -> None:
    """national-check's own rules dead-letter this FSE (a received_on that is no day): re-driven,
    it is handled again — not skipped as already handled — and fails again."""
    key = f"bad-day-{uuid.uuid4().hex}".encode()
    event = FseReceived(
        world="w", lot_id="l", ps_id="ps-1", ps_organism="01-331", received_on="someday", fse=sheet("f")
    )
    ident = str(uuid.uuid4())
    source = running.kafka().names(FSE_RECEIVED)
    await asyncio.to_thread(
        produce_raw,
        running,
        [(source, key, headers_of("fseflow.cti.v1.FseReceived", ident), event.SerializeToString())],
    )
    [first] = await letters_of(running, CHECK, key)
    assert first.letter.error_type == "MalformedEvent" and first.redrive_of is None

    await cli(running, "dlq", "redrive", CHECK, "--offset", first.position)
    letters = await letters_of(running, CHECK, key, lambda found: len(found) == 2)
    [again] = [s for s in letters if s.redrive_of is not None]
    assert again.redrive_of == first.address
    assert again.letter.event_id == first.letter.event_id == ident  # the same event...
    assert again.letter.source_topic == source
    assert again.letter.source_offset != first.letter.source_offset  # ...at new coordinates,
    assert again.letter_id != first.letter_id  # so a letter of its own

    select = ("dlq", "redrive", CHECK, "--topic", source, "--error-type", "MalformedEvent", "--dry-run")
    plan = await cli_json(running, *select)
    assert first.position in {r["letter"] for r in plan["redriven"]}
    assert again.position not in {r["letter"] for r in plan["redriven"]}
    assert again.position in plan["skipped_redriven"]
    plan = await cli_json(running, *select, "--include-redriven")
    assert {first.position, again.position} <= {r["letter"] for r in plan["redriven"]}
    # A dry run publishes nothing.
    assert len(await records_of(running, source, key)) == 2

    text = await cli(running, "dlq", "show", CHECK, "--topic", source, "--limit", "0")
    assert f"re-driven   from {first.address}, and failed again" in text
