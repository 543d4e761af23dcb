"""The manifest validation levels (fseflow_tools.k8s.validate) on the fixture kustomization: the
good overlays pass every level, and each broken overlay fails exactly the levels that can see its
error, with the object and the reason named. Skipped, saying why, when `make k8s-tools` has not
built the tools or the shared reference folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from fseflow_tools.cli import k8s as k8s_cli
from fseflow_tools.k8s import validate
from fseflow_tools.k8s.apiserver import ApiServer
from fseflow_tools.k8s.tools import REPO, Tools
from tests.integration.tools.k8s_tools import needs

pytestmark = pytest.mark.k8s

FIXTURES = REPO / "tests" / "fixtures" / "k8s"
OVERLAYS = sorted(path.name for path in (FIXTURES / "overlays").iterdir())

# overlay -> level -> (the one object that fails: "Kind name", a part of the reason). A level not
# listed passes every object. The topic with more replicas than brokers, and the ScaledObject
# allowed more consumers than its topic has partitions, are visible to the cross-object rules
# alone: each object is valid by itself and no operator runs on the API server.
BROKEN: dict[str, dict[str, tuple[str, str]]] = {
    "good": {},
    "more-kinds": {},
    "missing-resource": {"build": ("", "servicemonitor.yaml")},
    "wrong-field": {
        "schema": ("Deployment ingest", "additional properties 'resource' not allowed"),
        "server": (
            "Deployment ingest",
            '.spec.template.spec.containers[name="ingest"].resource: field not declared in schema',
        ),
    },
    "replicas-string": {
        "schema": ("Deployment ingest", "at '/spec/replicas': got string, want null or integer"),
        "server": ("Deployment ingest", ".spec.replicas: expected numeric"),
    },
    "custom-resource-field": {
        "schema": (
            "KafkaTopic cti.fse-received",
            "at '/spec': additional properties 'retention.ms' not allowed",
        ),
        "server": ("KafkaTopic cti.fse-received", ".spec.retention.ms: field not declared in schema"),
    },
    "topic-replicas": {
        "rules": ("KafkaTopic cti.fse-received", "replicas 3 > the 1 broker(s) of Kafka cluster fseflow"),
    },
    "scaling-beyond-partitions": {
        "rules": ("ScaledObject ingest", "maxReplicaCount 12 > the 8 partitions of topic cti.fse-received"),
    },
    "selector-mismatch": {
        "server": ("Deployment ingest", "`selector` does not match template `labels`"),
    },
    "cel-rule": {
        "server": (
            "Cluster fseflow-db",
            "builtinLocale is only available when localeProvider is set to `builtin`",
        ),
    },
}


def test_every_fixture_overlay_has_an_expectation() -> None:
    assert sorted(BROKEN) == OVERLAYS


def _needs(*tools: str) -> Tools:
    return needs(*tools)[0]


def _assert_level(report: validate.LevelReport, overlay: str) -> None:
    expected = BROKEN[overlay].get(report.level)
    if expected is None:
        assert report.ok, f"{overlay} ({report.level}) should pass: {report.failures}"
        return
    which, reason = expected
    assert not report.ok, f"{overlay} ({report.level}) should fail on {which}: {reason}"
    if report.error:
        assert reason in report.error
        return
    failed = [f"{result.kind} {result.name}" for result in report.results if not result.ok]
    assert failed == [which], report.failures
    assert reason in report.failures[0]


def _rendered(overlay: str) -> tuple[Path, str]:
    target = FIXTURES / "overlays" / overlay
    built, rendered = validate.build(_needs("kustomize"), target)
    assert not built.error, built.error
    return target, rendered


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kustomize_builds_every_overlay_but_the_broken_one(overlay: str) -> None:
    report, rendered = validate.build(_needs("kustomize"), FIXTURES / "overlays" / overlay)
    _assert_level(report, overlay)
    if report.ok:
        names = [f"{r.kind} {r.name}" for r in report.results]
        assert set(names) >= {
            "Namespace fseflow-fixture",
            "Deployment ingest",
            "Kafka fseflow",
            "KafkaNodePool dual-role",
            "KafkaTopic cti.fse-received",
            "Cluster fseflow-db",
        }
        assert len(names) == (20 if overlay in ("more-kinds", "scaling-beyond-partitions") else 6)
        assert "namespace: fseflow-fixture" in rendered


@pytest.mark.parametrize("overlay", [o for o in OVERLAYS if "build" not in BROKEN[o]])
def test_kubeconform_strict_offline(overlay: str) -> None:
    tools, reference = needs("kustomize", "kubeconform")
    target, rendered = _rendered(overlay)
    _assert_level(validate.schema(tools, reference, target, rendered), overlay)


def test_kubeconform_refuses_a_kind_it_has_no_schema_for() -> None:
    tools, reference = needs("kubeconform")
    rendered = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    report = validate.schema(tools, reference, FIXTURES, rendered)
    assert report.failures == ["Widget w: could not find schema for Widget"]


@pytest.mark.parametrize("overlay", [o for o in OVERLAYS if "build" not in BROKEN[o]])
def test_cross_object_rules(overlay: str) -> None:
    target, rendered = _rendered(overlay)
    _assert_level(validate.rules(target, rendered), overlay)


@pytest.mark.parametrize("overlay", [o for o in OVERLAYS if "build" not in BROKEN[o]])
def test_api_server_dry_run(k8s_api: ApiServer, overlay: str) -> None:
    target, rendered = _rendered(overlay)
    _assert_level(validate.server(k8s_api, target, rendered), overlay)


def test_dry_run_creates_nothing_but_namespaces(k8s_api: ApiServer) -> None:
    target, rendered = _rendered("good")
    assert validate.server(k8s_api, target, rendered).ok
    status, _ = k8s_api.request("GET", "/apis/apps/v1/namespaces/fseflow-fixture/deployments/ingest")
    assert status == 404
    status, _ = k8s_api.request("GET", "/api/v1/namespaces/fseflow-fixture")
    assert status == 200


def test_an_object_in_a_namespace_nobody_creates_fails(k8s_api: ApiServer) -> None:
    stray = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "nowhere"}}
    [result] = k8s_api.dry_run([stray])
    assert 'namespaces "nowhere" not found' in result.error


def test_the_command_line_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    _needs("kustomize", "kubeconform")
    good, broken = FIXTURES / "overlays" / "good", FIXTURES / "overlays" / "wrong-field"
    assert k8s_cli.run([good], ["build", "schema", "rules"]) == 0
    assert k8s_cli.run([broken], ["build", "schema"]) == 1
    out = capsys.readouterr().out
    assert "additional properties 'resource' not allowed" in out


def test_the_command_line_says_what_to_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FSEFLOW_K8S_BIN", str(tmp_path))
    assert k8s_cli.run([FIXTURES / "overlays" / "good"], validate.LEVELS) == 2
    assert "etcd, kube-apiserver, kubeconform, kustomize (run: make k8s-tools)" in capsys.readouterr().err
