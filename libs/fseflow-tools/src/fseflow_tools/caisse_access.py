"""A regional caisse's credentials on Apache Kafka: ``fseflow caisse grant|revoke RR-CCC``, and the
client properties file ``fseflow subscribe RR-CCC --config FILE`` (or kcat, or any librdkafka
client) reads.

``grant`` creates the organism's topic family if it is not there yet (so the caisse can subscribe
before its first day), a SCRAM-SHA-512 user ``caisse-RR-CCC`` with a new password (granting again
replaces it: the previous file stops working), and PREFIXED ACLs: read and describe
``caisse.RR-CCC.*`` topics, use groups under ``caisse.RR-CCC.``. The password is printed once and
kept nowhere. ``revoke`` deletes the user and every ACL of its principal.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from fseflow.kafka.factory import KafkaFactory
from fseflow.settings import KafkaSettings
from fseflow.topics import caisse_topics, check_organism
from fseflow_tools import acl, kafka_access
from fseflow_tools.kafka_broker import SCRAM_MECHANISM, SECURITY_PROTOCOL


class NoAccessControl(RuntimeError):
    """The broker cannot authenticate nor authorise (Tansu)."""


@dataclass(frozen=True)
class Granted:
    organism: str
    user: str
    password: str
    bootstrap: str
    acls: int
    topics: list[str]


def _admin(factory: KafkaFactory) -> AdminClient:
    # Warnings and errors only: librdkafka's informational lines ("Purging 1 unserved events"
    # when the client is released) would be printed among the command's own output.
    return AdminClient({**factory.confluent_config(), "log_level": 4})


def grant(admin_settings: KafkaSettings, organism: str) -> Granted:
    check_organism(organism)
    factory = KafkaFactory(admin_settings, "fseflow-caisse-access")
    created = asyncio.run(factory.ensure_topics(caisse_topics(organism)))
    admin = _admin(factory)
    user = acl.caisse_user(organism)
    password = secrets.token_urlsafe(24)
    kafka_access.upsert_users(admin, {user: password})
    grants = acl.caisse_grants(organism, admin_settings.kafka_topic_prefix)
    kafka_access.create_acls(admin, grants)
    return Granted(
        organism, user, password, admin_settings.kafka_bootstrap_servers, len(grants), sorted(created)
    )


def revoke(admin_settings: KafkaSettings, organism: str) -> tuple[bool, int]:
    """(whether the user existed, ACLs deleted)."""
    user = acl.caisse_user(organism)
    admin = _admin(KafkaFactory(admin_settings, "fseflow-caisse-access"))
    existed = bool(kafka_access.delete_users(admin, [user]))
    return existed, kafka_access.delete_acls_of(admin, acl.principal(user))


def properties(granted: Granted, *, java: bool = False) -> str:
    """The client properties file. librdkafka (confluent-kafka, kcat, ``fseflow subscribe
    --config``) takes ``sasl.username``/``sasl.password`` and refuses ``sasl.jaas.config``; Java
    clients need ``sasl.jaas.config``. The default file is librdkafka's, with the Java line
    commented out; ``java`` writes the Java one."""
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{granted.user}" password="{granted.password}";'
    )
    lines = [
        f"# caisse {granted.organism}: reads caisse.{granted.organism}.* only, with consumer groups "
        f"under caisse.{granted.organism}.",
        f"bootstrap.servers={granted.bootstrap}",
        f"security.protocol={SECURITY_PROTOCOL}",
        f"sasl.mechanism={SCRAM_MECHANISM}",
    ]
    if java:
        lines += [f"sasl.jaas.config={jaas}", f"group.id={acl.caisse_group(granted.organism, 'java')}"]
    else:
        lines += [
            f"sasl.username={granted.user}",
            f"sasl.password={granted.password}",
            "# Java clients: use this line instead of sasl.username/sasl.password",
            f"# sasl.jaas.config={jaas}",
        ]
    return "\n".join(lines) + "\n"


def read_properties(path: Path) -> dict[str, str]:
    """``key=value`` lines; ``#``/``!`` comments and blank lines skipped; ValueError naming the
    line otherwise."""
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{path}:{number}: expected key=value, got {line[:60]!r}")
        found[key.strip()] = value.strip()
    return found


def settings_from_properties(values: dict[str, str], path: Path) -> KafkaSettings:
    """KafkaSettings of a caisse's client file; ValueError naming the missing key."""
    for key in ("bootstrap.servers", "security.protocol"):
        if not values.get(key):
            raise ValueError(f"{path}: no {key}")
    mechanism = values.get("sasl.mechanism") or values.get("sasl.mechanisms")
    if values["security.protocol"].upper().startswith("SASL"):
        missing = [k for k in ("sasl.username", "sasl.password") if not values.get(k)]
        if not mechanism or missing:
            raise ValueError(
                f"{path}: a SASL client needs sasl.mechanism, sasl.username and sasl.password "
                f"(missing: {', '.join(missing) or 'sasl.mechanism'})"
            )
    return KafkaSettings(
        kafka_bootstrap_servers=values["bootstrap.servers"],
        kafka_client="confluent",
        kafka_security_protocol=values["security.protocol"],
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username=values.get("sasl.username"),
        kafka_sasl_password=values.get("sasl.password"),
        kafka_ssl_ca_location=values.get("ssl.ca.location"),
        kafka_topic_prefix="",
    )


def subscriber_group(organism: str) -> str:
    """A throw-away group under the caisse's prefix (it never commits: assign mode)."""
    return acl.caisse_group(organism, f"subscribe-{uuid.uuid4().hex[:8]}")


class AccessRefused(RuntimeError):
    """These credentials cannot read these topics, in one line saying why and what to do."""


def check_access(factory: KafkaFactory, topics: list[str], *, timeout_s: float = 15.0) -> None:
    """The credentials authenticate and may read every topic of ``topics``; AccessRefused if not.

    Checked before a caisse's subscription starts and again whenever it goes quiet: librdkafka
    alone retries a refused login for as long as it is let, printing each attempt, and a consumer
    whose ACLs were deleted only logs each refused fetch.
    """
    user = factory.settings.kafka_sasl_username or "these credentials"
    errors: list[KafkaError] = []
    admin = AdminClient({**factory.confluent_config(), "log_level": 0, "error_cb": errors.append})
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin.list_topics(timeout=1.0)
            break
        except KafkaException as exc:
            admin.poll(0.1)  # serves error_cb
            if any(e.code() == KafkaError._AUTHENTICATION for e in errors):
                raise AccessRefused(
                    f"the broker refused {user}'s login: revoked (`fseflow caisse revoke`) or replaced "
                    "by a later `fseflow caisse grant` (its new file holds the new password)"
                ) from None
            if time.monotonic() >= deadline:
                reason = errors[-1].str() if errors else exc.args[0].str()
                where = factory.settings.kafka_bootstrap_servers
                raise AccessRefused(f"no answer from {where} within {timeout_s:.0f}s: {reason}") from None
    for topic in topics:
        error = admin.list_topics(topic=topic, timeout=timeout_s).topics[topic].error
        if error is None:
            continue
        if error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
            raise AccessRefused(
                f"{user} may not read {topic} (TOPIC_AUTHORIZATION_FAILED): a caisse's credentials "
                "read its own caisse.RR-CCC.* topics only"
            )
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise AccessRefused(f"{topic} does not exist: `fseflow caisse grant` creates a caisse's topics")
        raise AccessRefused(f"{topic}: {error.str()}")
