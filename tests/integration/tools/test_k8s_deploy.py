"""deploy/k8s itself: every overlay passes every validation level; the production overlay carries
a KafkaTopic for every registered topic and a KafkaUser with exactly the registry's ACLs for every
service and every caisse; the dev overlay's single broker really needs its topic patch."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fseflow.settings import KafkaSettings
from fseflow.topics import ALL_TOPICS, SERVICES
from fseflow.vocabulary import refdata
from fseflow_tools import acl
from fseflow_tools.k8s import validate
from fseflow_tools.k8s.apiserver import ApiServer
from fseflow_tools.k8s.tools import REPO
from tests.integration.tools.k8s_tools import needs

pytestmark = pytest.mark.k8s

DEPLOY = REPO / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (DEPLOY / "overlays").iterdir())
DATA_PARTITIONS = int(KafkaSettings.model_fields["kafka_partitions"].default)


def _render(target: Path) -> list[dict[str, Any]]:
    tools, _ = needs("kustomize")
    report, rendered = validate.build(tools, target)
    assert report.ok, report.failures
    return [document for document in yaml.safe_load_all(rendered) if document]


def _of_kind(objects: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _acls(user: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (rule["resource"]["type"], rule["resource"]["patternType"], rule["resource"]["name"], operation)
        for rule in user["spec"]["authorization"]["acls"]
        for operation in rule["operations"]
    }


def _grants(grants: Iterable[acl.Grant]) -> set[tuple[str, str, str, str]]:
    return {(g.resource, g.pattern, g.name, g.operation) for g in grants}


def test_the_overlays_are_dev_and_prod() -> None:
    assert OVERLAYS == ["dev", "prod"]


def test_prod_has_a_kafka_topic_for_every_registered_topic() -> None:
    topics = _of_kind(_render(DEPLOY / "overlays" / "prod"), "KafkaTopic")
    assert set(topics) == {spec.name for spec in ALL_TOPICS}
    for spec in ALL_TOPICS:
        rendered = topics[spec.name]["spec"]
        assert rendered["partitions"] == spec.partition_count(DATA_PARTITIONS), spec.name
        assert (rendered["replicas"], rendered["config"]["min.insync.replicas"]) == (3, 2), spec.name
        assert topics[spec.name]["metadata"]["labels"]["strimzi.io/cluster"] == "fseflow"


def test_prod_has_a_kafka_user_per_service_and_per_caisse_with_the_registry_acls() -> None:
    users = _of_kind(_render(DEPLOY / "overlays" / "prod"), "KafkaUser")
    organisms = [organism for organism, _ in refdata.organisms()]
    assert len(organisms) > 100
    expected = {*SERVICES, "clock", *(acl.caisse_user(organism) for organism in organisms)}
    assert set(users) == expected
    for service in SERVICES:
        assert _acls(users[service]) == _grants(acl.service_grants(service)), service
    assert _acls(users["clock"]) == _grants(acl.clock_grants())
    for organism in organisms:
        user = users[acl.caisse_user(organism)]
        assert _acls(user) == _grants(acl.caisse_grants(organism)), organism
        assert {rule["resource"]["patternType"] for rule in user["spec"]["authorization"]["acls"]} == {
            "prefix"
        }
    assert all(user["spec"]["authentication"]["type"] == "scram-sha-512" for user in users.values())


def test_dev_runs_one_of_everything() -> None:
    objects = _render(DEPLOY / "overlays" / "dev")
    [pool] = _of_kind(objects, "KafkaNodePool").values()
    assert (pool["spec"]["replicas"], sorted(pool["spec"]["roles"])) == (1, ["broker", "controller"])
    assert _of_kind(objects, "Cluster")["fseflow-db"]["spec"]["instances"] == 1
    assert {name: d["spec"]["replicas"] for name, d in _of_kind(objects, "Deployment").items()} == {
        service: 1 for service in SERVICES
    }
    assert {t["spec"]["replicas"] for t in _of_kind(objects, "KafkaTopic").values()} == {1}


def test_dev_without_its_topic_patch_fails_the_rules(tmp_path: Path) -> None:
    """The base's topics ask for 3 replicas: on dev's single broker the rules level refuses them."""
    (tmp_path / "kafka.yaml").write_text((DEPLOY / "overlays" / "dev" / "kafka.yaml").read_text())
    base = os.path.relpath(DEPLOY / "base", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [{base}, kafka.yaml]\n"
    )
    tools, _ = needs("kustomize")
    built, rendered = validate.build(tools, tmp_path)
    assert built.ok, built.failures
    report = validate.rules(tmp_path, rendered)
    assert len(report.failures) == len(ALL_TOPICS)
    assert "KafkaTopic fseflow/cti.fse-received: replicas 3 > the 1 broker(s) of Kafka cluster fseflow" in (
        report.failures
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_passes_every_level(k8s_api: ApiServer, overlay: str) -> None:
    tools, reference = needs("kustomize", "kubeconform")
    reports = validate.validate(tools, reference, [DEPLOY / "overlays" / overlay], validate.LEVELS, k8s_api)
    assert [report.level for report in reports] == list(validate.LEVELS)
    for report in reports:
        assert report.ok, f"{overlay} ({report.level}): {report.failures}"
    built = reports[0]
    assert len(built.results) > 150
    assert {len(report.results) for report in reports if report.level in ("schema", "server")} == {
        len(built.results)
    }


def test_the_load_job_passes_every_level_applied_after_the_deployment(k8s_api: ApiServer) -> None:
    """deploy/load goes into the namespace deploy/k8s creates (docs/load-testing.md), so it is
    checked as an operator applies it: after the dev overlay, on the same API server."""
    tools, reference = needs("kustomize", "kubeconform")
    load = REPO / "deploy" / "load"
    folders = [DEPLOY / "overlays" / "dev", load]
    reports = validate.validate(tools, reference, folders, validate.LEVELS, k8s_api)
    for report in reports:
        assert report.ok, f"{report.target} ({report.level}): {report.failures}"
    on_server = [r for r in reports if r.target == load and r.level == "server"]
    assert len(on_server) == 1
    kinds = {result.kind for result in on_server[0].results}
    assert {"Job", "KafkaUser", "NetworkPolicy", "PersistentVolumeClaim", "ServiceAccount"} <= kinds
