"""deploy/k8s read as data, without the Kubernetes tools: the generated KafkaTopics and KafkaUsers
are fresh (like docs/topics.md), every environment variable a pod sets is a setting its process
reads, every metric an alert or the dashboard queries is one the code exports, and KEDA scales each
stage on topics it reads, never beyond their partitions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from fseflow.topics import by_name
from fseflow_tools.cli.main import app
from fseflow_tools.k8s import manifests
from ingest.config import Settings as IngestSettings
from national_check.config import Settings as NationalCheckSettings
from pointage.config import Settings as PointageSettings
from relances.config import Settings as RelancesSettings
from scor_store.config import Settings as ScorStoreSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy" / "k8s"
SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "national-check": NationalCheckSettings,
    "pointage": PointageSettings,
    "scor-store": ScorStoreSettings,
    "relances": RelancesSettings,
}
# Read by something else than the service's Settings: OpenTelemetry, Python, the tools' home.
NOT_SETTINGS = {"OTEL_SERVICE_NAME", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "FSEFLOW_HOME"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def test_the_generated_topics_and_users_are_fresh() -> None:
    assert manifests.stale(DEPLOY) == [], "run `make docs` (fseflow k8s generate)"


def test_generate_check_names_a_stale_file(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(DEPLOY / "base", copy / "base")
    assert CliRunner().invoke(app, ["k8s", "generate", "--check", "--dir", str(copy)]).exit_code == 0
    users = copy / manifests.GENERATED["users"]
    users.write_text(users.read_text().replace("operations: [Describe, Write]", "operations: [Write]", 1))
    result = CliRunner().invoke(app, ["k8s", "generate", "--check", "--dir", str(copy)])
    assert result.exit_code == 1
    assert f"stale: {users}" in result.output
    assert CliRunner().invoke(app, ["k8s", "generate", "--dir", str(copy)]).exit_code == 0
    assert manifests.stale(copy) == []


def test_the_data_partitions_are_the_settings_partitions() -> None:
    [settings] = _documents(DEPLOY / "base" / "settings.yaml")
    assert int(settings["data"]["KAFKA_PARTITIONS"]) == manifests.DATA_PARTITIONS


def _variables(settings_type: type[BaseSettings]) -> set[str]:
    return {name.upper() for name in settings_type.model_fields}


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_variable_a_service_pod_sets_is_one_of_its_settings(service: str) -> None:
    [settings] = _documents(DEPLOY / "base" / "settings.yaml")
    [deployment] = [
        d for d in _documents(DEPLOY / "base" / "services" / f"{service}.yaml") if d["kind"] == "Deployment"
    ]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": "fseflow-settings"}}]
    known = _variables(SETTINGS[service])
    set_here = {variable["name"] for variable in container["env"]}
    shared = set(settings["data"]) - {"SCOR_ADDR"}  # SCOR_ADDR: read by ingest and pointage only
    assert (set_here | shared) - NOT_SETTINGS <= known, (set_here | shared) - NOT_SETTINGS - known
    # Whatever the service requires (no default) is given.
    required = {name.upper() for name, field in SETTINGS[service].model_fields.items() if field.is_required()}
    assert required <= set_here | set(settings["data"]), required - set_here - set(settings["data"])
    assert {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "DATABASE_URL"} <= set_here
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "ops")
    assert port == SETTINGS[service].model_fields["metrics_port"].default


def _exported_metrics() -> set[str]:
    """Every series name the code registers, as Prometheus exposes them."""
    sources = [
        ROOT / "libs/fseflow/src/fseflow/telemetry/metrics.py",
        *ROOT.glob("services/*/src/*/metrics.py"),
    ]
    names: set[str] = set()
    for source in sources:
        for kind, name in re.findall(r'(Counter|Gauge|Histogram)\(\s*"(fseflow_\w+)"', source.read_text()):
            if kind == "Counter":
                names.add(f"{name}_total")
            elif kind == "Histogram":
                names.update(f"{name}_{suffix}" for suffix in ("bucket", "sum", "count"))
            else:
                names.add(name)
    return names


def test_every_metric_the_alerts_and_the_dashboard_query_is_exported() -> None:
    exported = _exported_metrics()
    assert "fseflow_consumer_lag" in exported and "fseflow_dead_letters_total" in exported
    [rule] = _documents(DEPLOY / "base" / "monitoring" / "prometheusrule.yaml")
    expressions = [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]
    dashboard = json.loads((DEPLOY / "base" / "monitoring" / "dashboards" / "fseflow.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queried = {name for expression in expressions for name in re.findall(r"\bfseflow_\w+", expression)}
    assert len(queried) >= 10
    assert queried <= exported, queried - exported


def test_keda_scales_each_stage_on_topics_it_reads_within_their_partitions() -> None:
    objects = _documents(DEPLOY / "overlays" / "prod" / "keda.yaml")
    scaled = [obj for obj in objects if obj["kind"] == "ScaledObject"]
    assert {obj["spec"]["scaleTargetRef"]["name"] for obj in scaled} == {
        "national-check",
        "pointage",
        "relances",
    }
    for obj in scaled:
        stage = obj["spec"]["scaleTargetRef"]["name"]
        for trigger in obj["spec"]["triggers"]:
            topic = by_name(trigger["metadata"]["topic"])
            assert trigger["metadata"]["consumerGroup"] == stage
            assert stage in topic.readers, (stage, topic.name)
            assert obj["spec"]["maxReplicaCount"] <= topic.partition_count(manifests.DATA_PARTITIONS)
            assert trigger["authenticationRef"]["name"] == "kafka-consumer-lag"
