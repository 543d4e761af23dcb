"""Authentication and authorisation on Apache Kafka (SASL/SCRAM, StandardAuthorizer): a caisse
reads its own topics and nothing else; a service writes only the topics it is the writer of;
checked with our clients, with `fseflow caisse grant` / `subscribe --config`, and once with
Debian's kcat, a client nobody here wrote. On Tansu, `caisse grant` says it cannot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from fseflow import topics
from fseflow.codec import encode
from fseflow.contracts.pointage.v1.pointage_pb2 import FseDelivered
from fseflow.kafka.base import OutRecord
from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.ownership import NotTheWriter
from fseflow.settings import KafkaSettings
from fseflow_tools import caisse_access
from fseflow_tools.kafka_broker import client_config
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration

OWN = "01-331"
OTHER = "02-331"
AUTHORIZATION_FAILED = (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED)


def _on_kafka(running: RunningStack) -> None:
    if running.state.broker_kind != "kafka":
        pytest.skip("Tansu has no authentication nor ACLs: run with FSEFLOW_BROKER=kafka (make test-kafka)")


def _cli_env(running: RunningStack) -> dict[str, str]:
    """The command line's environment: the stack's home, no client settings of this process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "DATABASE_URL"))}
    env["FSEFLOW_HOME"] = str(running.stack.home)
    return env


def _cli(running: RunningStack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fseflow_tools.cli.main", *args],
        env=_cli_env(running),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def granted(running: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """caisse 01-331's properties file, from `fseflow caisse grant`; one event in its fse topic
    and in 02-331's; revoked at the end."""
    _on_kafka(running)
    done = _cli(running, "caisse", "grant", OWN)
    assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("caisse") / "c.properties"
    path.write_text(done.stdout)
    assert f"sasl.username=caisse-{OWN}" in done.stdout and "sasl.password=" in done.stdout
    assert (path.stat().st_mode & 0o777) and "SCRAM-SHA-512" in done.stdout
    admin = running.kafka()
    run_id = uuid.uuid4().hex[:8]
    for organism in (OWN, OTHER):
        spec = topics.caisse_topic(organism, "fse")
        message = FseDelivered(world=f"access-{run_id}", fse_id=f"fse-{organism}-{run_id}", organism=organism)
        _send(admin, encode(message, topic=admin.names(spec), event_id=str(uuid.uuid4()), source="pointage"))
    yield path
    _cli(running, "caisse", "revoke", OWN)


def _send(kafka: KafkaFactory, record: OutRecord, *, ensure_topic: bool = True) -> None:
    import asyncio

    async def go() -> None:
        producer = kafka.producer()
        await producer.start()
        try:
            if ensure_topic:
                await kafka.ensure_topics([kafka.names.spec_of(record.topic)])
            await producer.send([record])
        finally:
            await producer.stop()

    asyncio.run(go())


def _caisse_config(path: Path) -> dict[str, Any]:
    values = caisse_access.read_properties(path)
    return {k: v for k, v in values.items() if not k.startswith("sasl.jaas")}


def _read_error(config: dict[str, Any], topic: str, organism: str = OWN, within: float = 20.0) -> int | None:
    """Read ``topic`` as a member of a group of ``organism``: the error code the broker answers
    (on the topic's metadata, then on the subscription), or None if it served records."""
    consumer = Consumer(
        {**config, "group.id": f"caisse.{organism}.test-{uuid.uuid4().hex[:6]}", "log_level": 0}
    )
    try:
        found = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if found is not None and found.error is not None:
            return int(found.error.code())
        consumer.subscribe([topic])
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for message in consumer.consume(100, 0.5):
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    return int(error.code())
                if error is None:
                    return None
        return None
    finally:
        consumer.close()


def test_a_caisse_reads_its_own_topics_and_nothing_else(running: RunningStack, granted: Path) -> None:
    config = _caisse_config(granted)
    # Its own topic: the record is there.
    consumer = Consumer({**config, "group.id": f"caisse.{OWN}.own", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(f"caisse.{OWN}.fse", 0, 0)])
        got: list[bytes] = []
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            got = [m.value() or b"" for m in consumer.consume(100, 0.5) if m.error() is None]
        assert got and OWN.encode() in got[0]
        # Listing topics shows only its own family.
        listed = set(consumer.list_topics(timeout=10).topics)
        assert listed and all(name.startswith(f"caisse.{OWN}.") for name in listed), listed
        assert f"caisse.{OWN}.fse" in listed
        # Committing for its own group works; for another group it is refused.
        consumer.commit(offsets=[TopicPartition(f"caisse.{OWN}.fse", 0, 1)], asynchronous=False)
    finally:
        consumer.close()
    # Committing offsets for another group (a service's, another caisse's) is refused.
    admin = AdminClient({**config, "log_level": 0})
    for group in ("pointage", f"caisse.{OTHER}.x"):
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(f"caisse.{OWN}.fse", 0, 1)])
        with pytest.raises(KafkaException) as refused:
            admin.alter_consumer_group_offsets([request], request_timeout=20)[group].result()
        assert refused.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED, (group, refused.value)
    mine = ConsumerGroupTopicPartitions(f"caisse.{OWN}.x", [TopicPartition(f"caisse.{OWN}.fse", 0, 1)])
    admin.alter_consumer_group_offsets([mine], request_timeout=20)[f"caisse.{OWN}.x"].result()
    # Every topic of another organism, and every national topic: authorisation errors.
    metadata = Producer(running.client_config()).list_topics(timeout=10).topics
    forbidden = sorted(
        name
        for name in metadata
        if name.startswith((f"caisse.{OTHER}.", "cti.", "pointage.", "clock.", "scor.", "relances.", "dlq."))
    )
    assert (
        f"caisse.{OTHER}.fse" in forbidden
        and "cti.fse-received" in forbidden
        and "pointage.decisions" in forbidden
    )
    for name in forbidden:
        code = _read_error(config, name)
        assert code in AUTHORIZATION_FAILED, (name, code)


def test_subscribe_with_the_printed_credentials_shows_only_the_caisse_flow(
    running: RunningStack, granted: Path
) -> None:
    own = _cli(
        running, "subscribe", OWN, "--config", str(granted), "--from-beginning", "--idle-exit", "3", "--json"
    )
    assert own.returncode == 0, own.stderr
    lines = [line for line in own.stdout.splitlines() if line.strip()]
    assert lines and all(f'"topic": "caisse.{OWN}.' in line for line in lines), own.stdout[:500]
    other = _cli(running, "subscribe", OTHER, "--config", str(granted), "--idle-exit", "3")
    assert other.returncode == 1
    assert other.stderr.strip() == (
        f"subscribe: caisse-{OWN} may not read caisse.{OTHER}.fse (TOPIC_AUTHORIZATION_FAILED): a "
        "caisse's credentials read its own caisse.RR-CCC.* topics only"
    ), other.stderr


def test_a_revoked_caisse_is_told_at_once_and_a_running_subscription_ends(
    running: RunningStack, tmp_path: Path
) -> None:
    """A field test: after `caisse revoke`, `subscribe --config` printed ~85 librdkafka lines
    over 16 s and ended on "Broker transport failure"; a subscription already running when the
    caisse was revoked logged refused fetches until killed."""
    _on_kafka(running)
    organism = "01-921"
    done = _cli(running, "caisse", "grant", organism)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "c.properties"
    path.write_text(done.stdout)
    reading = subprocess.Popen(
        [sys.executable, "-m", "fseflow_tools.cli.main", "subscribe", organism, "--config", str(path)],
        env=_cli_env(running),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            reading.wait(timeout=5)  # reading: its access was checked and it waits for events
        assert _cli(running, "caisse", "revoke", organism).returncode == 0
        _, stderr = reading.communicate(timeout=90)
    finally:
        reading.kill()
    assert reading.returncode == 1, stderr
    assert f"the broker refused caisse-{organism}'s login" in stderr or "may not read" in stderr, stderr
    again = _cli(running, "subscribe", organism, "--config", str(path), "--idle-exit", "3")
    assert again.returncode == 1
    refused = f"subscribe: the broker refused caisse-{organism}'s login: revoked"
    assert again.stderr.strip().startswith(refused), again.stderr
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr  # no librdkafka log lines


def test_a_service_cannot_write_a_topic_of_another_writer(running: RunningStack) -> None:
    _on_kafka(running)  # the factory's refusal alone: tests/unit/runtime/test_kafka_ownership.py
    state = running.state
    ingest = state.kafka_credentials("ingest")
    config = client_config(state.kafka_bootstrap_servers, "ingest", ingest["KAFKA_SASL_PASSWORD"])
    # The broker refuses it: cti.fse-classified is national-check's.
    results: list[KafkaError | None] = []
    producer = Producer({**config, "log_level": 0})
    producer.produce("cti.fse-classified", b"x", on_delivery=lambda error, _m: results.append(error))
    producer.produce("cti.fse-received", b"", on_delivery=lambda error, _m: results.append(error))
    producer.flush(30)
    codes = sorted(str(e.name()) if e is not None else "OK" for e in results)
    assert codes == ["OK", "TOPIC_AUTHORIZATION_FAILED"], codes
    # And the project's producer factory refuses it before it leaves the process.
    settings = KafkaSettings(
        kafka_bootstrap_servers=state.kafka_bootstrap_servers,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="ingest",
        kafka_sasl_password=ingest["KAFKA_SASL_PASSWORD"],
    )
    factory = KafkaFactory(settings, "ingest")
    with pytest.raises(
        NotTheWriter, match=r"ingest may not write cti.fse-classified: its single writer is national-check"
    ):
        _send(factory, OutRecord("cti.fse-classified", b"x"), ensure_topic=False)


def _librdkafka_for_kcat(directory: Path) -> dict[str, str]:
    """An environment that runs Debian's kcat on the librdkafka of the confluent-kafka wheel.

    Debian 12's librdkafka (2.0.2) cannot authenticate with SCRAM to any Kafka 4.x: it sends the
    nonce twice in its final message, which Kafka 4 checks strictly (fixed in librdkafka 2.6.1).
    librdkafka keeps its ABI, so kcat runs unchanged on the wheel's build."""
    import confluent_kafka

    libs = sorted(
        (Path(confluent_kafka.__file__).parents[1] / "confluent_kafka.libs").glob("librdkafka-*.so.1")
    )
    if not libs:
        pytest.skip("no librdkafka in the confluent-kafka wheel to run kcat on")
    (directory / "librdkafka.so.1").symlink_to(libs[0])
    return {**os.environ, "LD_LIBRARY_PATH": str(directory)}


def test_kcat_with_the_printed_credentials(running: RunningStack, granted: Path, tmp_path: Path) -> None:
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.skip("Debian's kcat is not installed: `make kcat`")
    env = _librdkafka_for_kcat(tmp_path)

    def run(*args: str, config: Path = granted) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kcat, "-F", str(config), *args], capture_output=True, text=True, timeout=60, check=False, env=env
        )

    own = run("-C", "-t", f"caisse.{OWN}.fse", "-o", "beginning", "-e", "-c", "1", "-f", "%t %k\n")
    assert own.returncode == 0 and own.stdout.startswith(f"caisse.{OWN}.fse"), own.stderr
    listed = run("-L", "-J")
    assert listed.returncode == 0, listed.stderr
    import json

    names = {t["topic"] for t in json.loads(listed.stdout)["topics"]}
    assert names and all(n.startswith(f"caisse.{OWN}.") for n in names), names
    for topic in (f"caisse.{OTHER}.fse", "cti.fse-received", "pointage.decisions"):
        refused = run("-C", "-t", topic, "-o", "beginning", "-e")
        assert refused.returncode != 0 and "authorization failed" in refused.stderr.lower(), (
            topic,
            refused.stderr,
        )
    # A service's credentials, written as a properties file kcat reads: ingest cannot write
    # national-check's topic.
    ingest = running.state.kafka_credentials("ingest")
    service_file = granted.parent / "ingest.properties"
    service_file.write_text(
        f"bootstrap.servers={running.state.kafka_bootstrap_servers}\nsecurity.protocol=SASL_PLAINTEXT\n"
        f"sasl.mechanism=SCRAM-SHA-512\nsasl.username=ingest\nsasl.password={ingest['KAFKA_SASL_PASSWORD']}\n"
    )
    produced = subprocess.run(
        [kcat, "-F", str(service_file), "-P", "-t", "cti.fse-classified"],
        input="x\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert "authorization failed" in (produced.stderr + produced.stdout).lower(), produced.stderr


def test_a_revoked_caisse_can_no_longer_connect(running: RunningStack, tmp_path: Path) -> None:
    _on_kafka(running)
    organism = "03-921"
    done = _cli(running, "caisse", "grant", organism)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "c.properties"
    path.write_text(done.stdout)
    config = _caisse_config(path)
    assert _read_error(config, f"caisse.{organism}.fse", organism, within=5) is None
    revoked = _cli(running, "caisse", "revoke", organism)
    assert (
        revoked.returncode == 0 and "user deleted" in revoked.stderr and "4 ACL(s) deleted" in revoked.stderr
    )
    errors: list[KafkaError] = []
    consumer = Consumer(
        {**config, "group.id": f"caisse.{organism}.x", "log_level": 0, "error_cb": errors.append}
    )
    try:
        with pytest.raises(KafkaException):
            consumer.list_topics(timeout=10)
        deadline = time.monotonic() + 20
        while not any(e.code() == KafkaError._AUTHENTICATION for e in errors) and time.monotonic() < deadline:
            consumer.poll(0.5)  # serves the error callback
        assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
    finally:
        consumer.close()


def test_on_tansu_caisse_grant_says_it_cannot(running: RunningStack) -> None:
    if running.state.broker_kind != "tansu":
        pytest.skip("the stack's broker is not Tansu")
    done = _cli(running, "caisse", "grant", OWN)
    assert done.returncode == 3
    assert "Tansu" in done.stderr and "no authentication and no ACLs" in done.stderr
    assert done.stdout == ""
