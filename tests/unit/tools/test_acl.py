"""The broker's ACLs, derived from the topic registry: each service writes only the topics it is
the single writer of, reads what it consumes, uses the groups its bootstrap names; a caisse reads
its own family only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.watermarks import reader_group_id
from fseflow.settings import KafkaSettings
from fseflow.topics import ALL_TOPICS, CAISSE_KINDS, SERVICES, caisse_kinds_of
from fseflow_tools import acl

ROOT = Path(__file__).resolve().parents[3]


def _literal(grants: tuple[acl.Grant, ...], resource: str, operation: str) -> set[str]:
    return {
        g.name
        for g in grants
        if g.resource == resource and g.pattern == "literal" and g.operation == operation
    }


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_writes_exactly_the_registered_topics_it_is_the_writer_of(service: str) -> None:
    grants = acl.service_grants(service)
    assert _literal(grants, "topic", "Write") == {t.name for t in ALL_TOPICS if t.writer == service}
    assert f"dlq.{service}" in _literal(grants, "topic", "Write")
    # Its reads: what it consumes, and its own DLQ (the depth gauge).
    assert _literal(grants, "topic", "Read") == {t.name for t in ALL_TOPICS if service in t.readers} | {
        f"dlq.{service}"
    }
    assert {g.principal for g in grants} == {f"User:{service}"}


def test_no_service_may_write_a_registered_topic_of_another_writer() -> None:
    for grant in acl.all_service_grants():
        if grant.operation != "Write" or grant.pattern != "literal":
            continue
        owner = next(t.writer for t in ALL_TOPICS if t.name == grant.name)
        assert grant.principal == f"User:{owner}", grant


def test_only_writers_of_caisse_kinds_get_the_caisse_prefix() -> None:
    for service in SERVICES:
        prefixed = {
            (g.name, g.operation)
            for g in acl.service_grants(service)
            if g.pattern == "prefix" and g.resource == "topic"
        }
        if caisse_kinds_of(service):
            assert prefixed == {("caisse.", "Create"), ("caisse.", "Write"), ("caisse.", "Describe")}
        else:
            assert prefixed == set()
    assert {s for s in SERVICES if caisse_kinds_of(s)} == {"pointage", "relances"}
    assert set(caisse_kinds_of("pointage")) | set(caisse_kinds_of("relances")) == set(CAISSE_KINDS)


def test_the_topic_prefix_of_a_deployment_is_applied() -> None:
    grants = acl.service_grants("ingest", "fseflow.")
    assert "fseflow.cti.fse-received" in _literal(grants, "topic", "Write")
    prefixed = {
        g.name
        for g in acl.service_grants("pointage", "fseflow.")
        if g.pattern == "prefix" and g.resource == "topic"
    }
    assert prefixed == {"fseflow.caisse."}


def _bootstrap_groups() -> dict[str, set[str]]:
    """Every group_id=... in services/*/src/*/{bootstrap,entrypoints/*}.py, with SERVICE replaced
    by its value."""
    found: dict[str, set[str]] = {}
    for path in sorted(ROOT.glob("services/*/src/*/bootstrap.py")):
        text = "\n".join(p.read_text() for p in [path, *sorted(path.parent.glob("entrypoints/*.py"))])
        sources = "\n".join(p.read_text() for p in sorted(path.parent.rglob("*.py")))
        service = re.search(r'^SERVICE = "([^"]+)"', sources, re.M)
        assert service, f"{path}: SERVICE not found"
        name = service.group(1)
        groups = set()
        for expression in re.findall(r"group_id=([^,)]+)", text):
            expression = expression.strip()
            if expression == "SERVICE":
                groups.add(name)
            elif expression.startswith('f"{SERVICE}'):
                groups.add(name + expression[len('f"{SERVICE}') : -1])
            else:
                raise AssertionError(f"{path}: group_id={expression} is not named after the service")
        found[name] = groups
    return found


def _allowed_group(service: str, group: str) -> bool:
    for pattern, name in acl.consumer_groups(service):
        if (pattern == "literal" and group == name) or (pattern == "prefix" and group.startswith(name)):
            return True
    return False


def test_every_group_a_service_uses_is_covered_by_its_group_acls() -> None:
    groups = _bootstrap_groups()
    assert set(groups) == set(SERVICES)
    assert "pointage.clock" in groups["pointage"] and "national-check" in groups["national-check"]
    for service, names in groups.items():
        for group in names:
            assert _allowed_group(service, group), (service, group)
            assert not any(_allowed_group(other, group) for other in SERVICES if other != service)
        # The assign-mode readers' throw-away groups (KafkaFactory.consumer without group_id).
        assert _allowed_group(service, f"{service}-reader-1a2b3c4d")


def test_the_day_closer_writes_the_clock_and_nothing_else() -> None:
    grants = acl.clock_grants()
    assert {(g.resource, g.pattern, g.name, g.operation) for g in grants} == {
        ("topic", "literal", "clock.day-closed", "Write"),
        ("topic", "literal", "clock.day-closed", "Describe"),
    }
    assert {g.principal for g in grants} == {"User:clock"}
    assert {g.name for g in acl.clock_grants("acme.")} == {"acme.clock.day-closed"}


def test_a_caisse_reads_its_own_family_and_nothing_else() -> None:
    grants = acl.caisse_grants("01-331")
    assert {(g.resource, g.pattern, g.name, g.operation) for g in grants} == {
        ("topic", "prefix", "caisse.01-331.", "Read"),
        ("topic", "prefix", "caisse.01-331.", "Describe"),
        ("group", "prefix", "caisse.01-331.", "Read"),
        ("group", "prefix", "caisse.01-331.", "Describe"),
    }
    assert {g.principal for g in grants} == {"User:caisse-01-331"}
    assert acl.caisse_group("01-331", "x").startswith("caisse.01-331.")
    with pytest.raises(ValueError, match="RR-CCC"):
        acl.caisse_grants("01-33")


@pytest.mark.parametrize("service", SERVICES)
def test_the_watermark_readers_of_a_service_use_a_group_its_acls_cover(service: str) -> None:
    """The dead-letter depth gauge's reader (fseflow.kafka.watermarks) runs in every service."""
    config = KafkaFactory(KafkaSettings(kafka_bootstrap_servers="127.0.0.1:1"), service).confluent_config()
    for purpose in ("depth", "reader"):
        assert _allowed_group(service, reader_group_id(config, purpose)), (service, purpose)
