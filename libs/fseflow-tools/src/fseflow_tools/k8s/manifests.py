"""The Strimzi resources of deploy/k8s that follow from the topic registry, generated so that a
topic, a service's ACL or a caisse cannot be forgotten there (`fseflow k8s generate`; a unit test
fails when the committed files are stale, as for docs/topics.md):

- a ``KafkaTopic`` per registered topic (``fseflow.topics.ALL_TOPICS``): its partitions, the
  production replication (3, ``min.insync.replicas`` 2; the dev overlay patches both to 1) and its
  own configuration;
- a ``KafkaUser`` per service with exactly the ACLs of ``fseflow_tools.acl.service_grants`` (what
  the embedded Apache Kafka grants), and one for the day closer (``acl.clock_grants``);
- a ``KafkaUser`` per caisse of the shipped reference data (``caisse-RR-CCC``) with the PREFIXED
  ACLs of ``acl.caisse_grants``: its own family ``caisse.RR-CCC.*`` and groups under that prefix.

The caisse topic families themselves are not generated: pointage and relances create a family the
first time they meet its organism (D56), which Strimzi's unidirectional Topic Operator leaves alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from fseflow.settings import KafkaSettings
from fseflow.topics import ALL_TOPICS, SERVICES, TopicSpec
from fseflow.vocabulary import refdata
from fseflow_tools import acl

CLUSTER = "fseflow"  # the Kafka resource's name in both overlays
# Production replication; overlays/dev patches it down to its single broker.
REPLICAS = 3
MIN_INSYNC_REPLICAS = 2
DATA_PARTITIONS = int(KafkaSettings.model_fields["kafka_partitions"].default)
GENERATED = {
    "topics": Path("base/kafka/generated-topics.yaml"),
    "users": Path("base/kafka/generated-users.yaml"),
    "caisses": Path("base/kafka/generated-caisse-users.yaml"),
}
HEADER = (
    "# Generated from the topic registry (libs/fseflow/src/fseflow/topics.py), the ACLs of\n"
    "# fseflow_tools.acl and the shipped caisses by `fseflow k8s generate`; do not edit by hand.\n"
)


class _Inline(dict[str, Any]):
    """Written on one line: an ACL's resource."""


class _InlineList(list[str]):
    """Written on one line: an ACL's operations."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Inline, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _InlineList,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def _labels(component: str) -> dict[str, str]:
    return {
        "strimzi.io/cluster": CLUSTER,
        "app.kubernetes.io/part-of": "fseflow",
        "app.kubernetes.io/component": component,
    }


def kafka_topic(spec: TopicSpec) -> dict[str, Any]:
    config: dict[str, Any] = {"min.insync.replicas": MIN_INSYNC_REPLICAS}
    config.update(dict(spec.config))
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": spec.name, "labels": _labels(spec.writer)},
        "spec": {
            "partitions": spec.partition_count(DATA_PARTITIONS),
            "replicas": REPLICAS,
            "config": config,
        },
    }


def _acls(grants: Iterable[acl.Grant]) -> list[dict[str, Any]]:
    """Strimzi's form: one rule per resource, with its operations."""
    by_resource: dict[tuple[str, str, str], list[str]] = {}
    for grant in sorted(grants):
        by_resource.setdefault((grant.resource, grant.name, grant.pattern), []).append(grant.operation)
    return [
        {
            "resource": _Inline(type=kind, name=name, patternType=pattern),
            "operations": _InlineList(operations),
        }
        for (kind, name, pattern), operations in by_resource.items()
    ]


def kafka_user(
    name: str, grants: Iterable[acl.Grant], component: str, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": _labels(component)}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": metadata,
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": _acls(grants)},
        },
    }


def _documents(objects: Iterable[dict[str, Any]]) -> str:
    return HEADER + "".join(
        "---\n" + yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False) for obj in objects
    )


def render() -> dict[Path, str]:
    """Each generated file (relative to deploy/k8s) and its text."""
    users = [kafka_user(service, acl.service_grants(service), service) for service in SERVICES]
    users.append(kafka_user("clock", acl.clock_grants(), "day-close"))
    caisses = [
        kafka_user(
            acl.caisse_user(organism), acl.caisse_grants(organism), "caisse", {"fseflow/caisse": label}
        )
        for organism, label in refdata.organisms()
    ]
    return {
        GENERATED["topics"]: _documents(kafka_topic(spec) for spec in ALL_TOPICS),
        GENERATED["users"]: _documents(users),
        GENERATED["caisses"]: _documents(caisses),
    }


def write(root: Path) -> list[Path]:
    """Write the files under ``root`` (deploy/k8s); the ones that changed."""
    changed = []
    for relative, text in render().items():
        path = root / relative
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    return changed


def stale(root: Path) -> list[Path]:
    """The generated files under ``root`` that differ from what the registry gives now."""
    return [
        root / relative
        for relative, text in render().items()
        if not (root / relative).is_file() or (root / relative).read_text() != text
    ]
