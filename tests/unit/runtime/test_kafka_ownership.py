"""The producer factory's single-writer check, and a caisse's client properties file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from pathlib import Path

import pytest

from fseflow.kafka.base import OutRecord
from fseflow.kafka.ownership import NotTheWriter, OwnedTopicsProducer, WriterCheck, writer_identity
from fseflow.topics import TopicNames
from fseflow_tools import caisse_access


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        self.sent += [r.topic for r in records]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def send(self, records: Sequence[OutRecord]) -> None:
        await (await self.enqueue(records))

    async def partition_count(self, topic: str) -> int:
        return 8


def test_services_are_checked_tools_are_not() -> None:
    assert writer_identity("pointage") == "pointage"
    assert writer_identity("fseflow-replay") is None
    assert writer_identity("fseflow-clock") is None


@pytest.mark.parametrize(
    ("caller", "topic", "refused"),
    [
        ("ingest", "cti.fse-received", None),
        ("ingest", "dlq.ingest", None),
        (
            "ingest",
            "cti.fse-classified",
            "ingest may not write cti.fse-classified: its single writer is national-check",
        ),
        ("pointage", "caisse.01-331.payments", None),
        (
            "pointage",
            "caisse.01-331.relances",
            "pointage may not write caisse.01-331.relances: its single writer is relances",
        ),
        ("relances", "caisse.01-331.relances", None),
        (
            "relances",
            "clock.day-closed",
            "relances may not write clock.day-closed: its single writer is clock",
        ),
        ("scor-store", "dlq.ingest", "scor-store may not write dlq.ingest: its single writer is ingest"),
        (
            "national-check",
            "not-a-topic",
            "national-check may not write not-a-topic: the topic is not in the registry",
        ),
        ("national-check", "scratch.bench-1", None),
    ],
)
def test_a_service_writes_only_its_own_topics(caller: str, topic: str, refused: str | None) -> None:
    why = WriterCheck(caller, TopicNames()).refusal(topic)
    assert (why is None) if refused is None else (why is not None and why.startswith(refused))


def test_with_a_topic_prefix() -> None:
    check = WriterCheck("ingest", TopicNames("fseflow."))
    assert check.refusal("fseflow.cti.fse-received") is None
    assert check.refusal("fseflow.cti.fse-classified") is not None


def test_a_refused_batch_sends_nothing() -> None:
    inner = _Recorder()
    producer = OwnedTopicsProducer(inner, WriterCheck("ingest", TopicNames()))

    async def go() -> None:
        await producer.send([OutRecord("cti.fse-received", b"a")])
        with pytest.raises(NotTheWriter, match="its single writer is national-check"):
            await producer.send([OutRecord("cti.fse-received", b"b"), OutRecord("cti.fse-classified", b"c")])

    asyncio.run(go())
    assert inner.sent == ["cti.fse-received"]


def test_the_properties_file_round_trips_and_names_what_is_missing(tmp_path: Path) -> None:
    granted = caisse_access.Granted("01-331", "caisse-01-331", "pw-1", "127.0.0.1:19092", 4, [])
    text = caisse_access.properties(granted)
    assert "sasl.jaas.config" not in text.replace("# sasl.jaas.config", "")  # librdkafka refuses it
    path = tmp_path / "c.properties"
    path.write_text(text)
    settings = caisse_access.settings_from_properties(caisse_access.read_properties(path), path)
    assert (settings.kafka_bootstrap_servers, settings.kafka_sasl_username, settings.kafka_sasl_password) == (
        "127.0.0.1:19092",
        "caisse-01-331",
        "pw-1",
    )
    assert (
        settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
        and settings.kafka_security_protocol == "SASL_PLAINTEXT"
    )
    java = caisse_access.properties(granted, java=True)
    assert 'username="caisse-01-331" password="pw-1";' in java and "sasl.username" not in java
    path.write_text(text.replace("sasl.password=pw-1\n", ""))
    with pytest.raises(ValueError, match=r"missing: sasl\.password"):
        caisse_access.settings_from_properties(caisse_access.read_properties(path), path)
    path.write_text("bootstrap.servers\n")
    with pytest.raises(ValueError, match=r"c\.properties:1: expected key=value"):
        caisse_access.read_properties(path)
    assert caisse_access.subscriber_group("01-331").startswith("caisse.01-331.subscribe-")
