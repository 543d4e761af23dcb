"""Who may do what on the broker, derived from the topic registry (``fseflow.topics``): pure data,
applied by ``fseflow_tools.kafka_access`` on the embedded Apache Kafka and meant to be rendered as
Strimzi ``KafkaUser`` resources from the same function.

A service may write the topics it is the single writer of (its dead-letter topic included), read
the topics it consumes, and use consumer groups named after itself. Caisse topics are one family
per organism (``caisse.RR-CCC.<kind>``) created when an organism is first met: a prefix cannot
tell the kinds apart (the kind is the suffix), so each writer of caisse kinds may create and write
``caisse.*``; which kind it may write is checked by the producer factory (``fseflow.kafka.
ownership``). A caisse may read its own family and use groups under the same prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fseflow.topics import (
    ALL_TOPICS,
    CAISSE_PREFIX,
    CLOCK_WRITER,
    SERVICES,
    TopicNames,
    caisse_kinds_of,
    check_organism,
)

ResourceType = Literal["topic", "group", "cluster"]
PatternType = Literal["literal", "prefix"]
# Strimzi's spelling (KafkaUser spec.authorization.acls[].operations).
Operation = Literal["Read", "Write", "Describe", "Create"]


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL: ``principal`` may do ``operation`` on the resource ``name`` (literal or prefix)."""

    principal: str  # "User:pointage"
    resource: ResourceType
    pattern: PatternType
    name: str
    operation: Operation


def principal(user: str) -> str:
    return f"User:{user}"


def caisse_user(organism: str) -> str:
    """The SCRAM user of a regional caisse: caisse-01-331."""
    return f"caisse-{check_organism(organism)}"


def consumer_groups(service: str) -> tuple[tuple[PatternType, str], ...]:
    """A service's groups: its name (the main group), ``<service>.`` (e.g. ``pointage.clock``) and
    ``<service>-reader-`` (the throw-away group ids librdkafka needs for assign-mode readers,
    which never commit). Every ``group_id`` in services/*/bootstrap.py follows this (unit test)."""
    return (("literal", service), ("prefix", f"{service}."), ("prefix", f"{service}-reader-"))


def service_grants(service: str, topic_prefix: str = "") -> tuple[Grant, ...]:
    """Every ACL of one service, from the registry."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r} (services: {', '.join(SERVICES)})")
    names = TopicNames(topic_prefix)
    who = principal(service)
    grants: set[Grant] = set()

    def allow(resource: ResourceType, pattern: PatternType, name: str, *operations: Operation) -> None:
        grants.update(Grant(who, resource, pattern, name, op) for op in operations)

    for spec in ALL_TOPICS:
        if spec.writer == service:
            allow("topic", "literal", names(spec), "Write", "Describe")
            if spec.name.startswith("dlq."):
                # Its dead-letter depth gauge reads its own DLQ's watermarks (D47).
                allow("topic", "literal", names(spec), "Read")
        if service in spec.readers:
            allow("topic", "literal", names(spec), "Read", "Describe")
    if caisse_kinds_of(service):
        # It creates an organism's family the first time it meets it, then writes its kinds.
        allow("topic", "prefix", f"{topic_prefix}{CAISSE_PREFIX}", "Create", "Write", "Describe")
    for pattern, group in consumer_groups(service):
        allow("group", pattern, group, "Read", "Describe")
    return tuple(sorted(grants))


def clock_grants(topic_prefix: str = "") -> tuple[Grant, ...]:
    """The day closer (``fseflow clock close``, the daily CronJob): it writes the clock's topics
    and nothing else; it reads nothing and joins no group."""
    names = TopicNames(topic_prefix)
    who = principal(CLOCK_WRITER)
    return tuple(
        sorted(
            Grant(who, "topic", "literal", names(spec), operation)
            for spec in ALL_TOPICS
            if spec.writer == CLOCK_WRITER
            for operation in ("Write", "Describe")
        )
    )


def all_service_grants(topic_prefix: str = "") -> tuple[Grant, ...]:
    return tuple(grant for service in SERVICES for grant in service_grants(service, topic_prefix))


def caisse_grants(organism: str, topic_prefix: str = "") -> tuple[Grant, ...]:
    """A caisse reads its own family, ``caisse.RR-CCC.*``, with groups under the same prefix."""
    who = principal(caisse_user(organism))
    family = f"{topic_prefix}{CAISSE_PREFIX}{organism}."
    groups = caisse_group(organism, "")
    return tuple(
        sorted(
            {
                Grant(who, "topic", "prefix", family, "Read"),
                Grant(who, "topic", "prefix", family, "Describe"),
                Grant(who, "group", "prefix", groups, "Read"),
                Grant(who, "group", "prefix", groups, "Describe"),
            }
        )
    )


def caisse_group(organism: str, suffix: str) -> str:
    """A consumer group a caisse may use: under ``caisse.RR-CCC.`` (groups take no topic prefix)."""
    return f"{CAISSE_PREFIX}{check_organism(organism)}.{suffix}"
