"""Validate kustomize deployments at every level this machine can run (deploy/k8s/README.md, Validation):

  (a) build    `kustomize build` of the kustomization (or of every folder in its overlays/)
  (b) schema   kubeconform -strict, offline, on the output: core kinds against kubernetes-
               validate's schemas, custom resources against ../shared/reference/k8s-schemas
      rules    what no schema can express: a topic's replicas against the brokers of its Kafka
               cluster, a KEDA ScaledObject's maxReplicaCount against its topics' partitions
  (c) server   a real kube-apiserver with the operators' CRDs: namespaces created, every other
               object applied with server-side dry run (defaulting, CEL rules, admission)

`fseflow k8s validate` (fseflow_tools.cli.k8s) runs them and prints a line per target and level.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fseflow_tools.k8s.apiserver import ApiServer, ObjectResult
from fseflow_tools.k8s.tools import (
    KUBERNETES_SCHEMA_VERSION,
    CannotValidate,
    Tools,
    core_schema_root,
    crd_files,
)

LEVELS = ("build", "schema", "rules", "server")
TOOLS_OF_LEVEL = {
    "build": ("kustomize",),
    "schema": ("kubeconform",),
    "server": ("etcd", "kube-apiserver"),
}
# A topic's cluster is named by this label; node pools belong to their cluster by it too.
CLUSTER_LABEL = "strimzi.io/cluster"
# kubeconform's templates: its own layout for core kinds (kubernetes-validate's files renamed,
# tests/k8s/tools.py), and the layout of shared/reference/k8s-schemas for custom resources.
CORE_SCHEMA_PATH = (
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
    "{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
CUSTOM_RESOURCE_SCHEMA_PATH = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


@dataclass
class LevelReport:
    level: str
    target: Path
    seconds: float
    results: list[ObjectResult] = field(default_factory=list)
    error: str = ""  # the level as a whole failed (kustomize could not build)

    @property
    def ok(self) -> bool:
        return not self.error and all(result.ok for result in self.results)

    @property
    def failures(self) -> list[str]:
        found = [self.error] if self.error else []
        return found + [f"{result.label}: {result.error}" for result in self.results if not result.ok]


def targets(folder: Path) -> list[Path]:
    """The kustomization itself, or each overlay of a deployment folder (deploy/k8s)."""
    if (folder / "kustomization.yaml").is_file():
        return [folder]
    overlays = sorted(path.parent for path in (folder / "overlays").glob("*/kustomization.yaml"))
    if not overlays:
        raise CannotValidate(f"{folder}: no kustomization.yaml, and no overlays/*/kustomization.yaml")
    return overlays


def _objects(rendered: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(rendered) if document]


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind", "?")), str(metadata.get("namespace", "")), str(metadata.get("name", "?"))


def build(tools: Tools, target: Path) -> tuple[LevelReport, str]:
    """(a) The rendered manifests, and the report (kustomize's own message when it fails)."""
    started = time.monotonic()
    run = subprocess.run(
        [str(tools.path("kustomize")), "build", str(target)], capture_output=True, text=True, timeout=300
    )
    report = LevelReport("build", target, time.monotonic() - started)
    if run.returncode != 0:
        report.error = f"kustomize build {target} failed: {run.stderr.strip()}"
        return report, ""
    report.results = [ObjectResult(*_identity(obj)) for obj in _objects(run.stdout)]
    return report, run.stdout


def schema(tools: Tools, reference: Path, target: Path, rendered: str) -> LevelReport:
    """(b) kubeconform -strict, offline; an object of a kind no schema describes fails."""
    started = time.monotonic()
    core = core_schema_root()
    run = subprocess.run(
        [
            str(tools.path("kubeconform")),
            "-strict",
            "-output=json",
            f"-kubernetes-version={KUBERNETES_SCHEMA_VERSION}",
            "-n=2",
            "-schema-location",
            f"{core}/{CORE_SCHEMA_PATH}",
            "-schema-location",
            f"{reference}/k8s-schemas/{CUSTOM_RESOURCE_SCHEMA_PATH}",
            "-",
        ],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = LevelReport("schema", target, 0.0)
    try:
        verdicts = json.loads(run.stdout)["resources"]
    except (ValueError, KeyError):
        report.error = f"kubeconform said nothing readable (status {run.returncode}): {run.stderr.strip()}"
        return report
    problems: dict[tuple[str, str], str] = {}
    for verdict in verdicts:
        if verdict["status"] not in ("statusValid", "statusSkipped"):
            # "problem validating schema ... with '<schema file>' - at '/spec/x': why" -> the end
            problems[(verdict["kind"], verdict["name"])] = verdict["msg"].split("' - ", 1)[-1]
    for obj in _objects(rendered):
        kind, namespace, name = _identity(obj)
        report.results.append(ObjectResult(kind, namespace, name, problems.get((kind, name), "")))
    report.seconds = time.monotonic() - started
    return report


def _topic_problem(topic: dict[str, Any], brokers: dict[str, int]) -> str:
    cluster = (topic["metadata"].get("labels") or {}).get(CLUSTER_LABEL, "")
    spec = topic.get("spec") or {}
    replicas, min_insync = spec.get("replicas"), (spec.get("config") or {}).get("min.insync.replicas")
    if cluster not in brokers or not isinstance(replicas, int):
        return ""  # its cluster is not rendered here, or the replicas are the broker's default
    if replicas > brokers[cluster]:
        return f"replicas {replicas} > the {brokers[cluster]} broker(s) of Kafka cluster {cluster}"
    if isinstance(min_insync, int) and min_insync > replicas:
        return f"min.insync.replicas {min_insync} > replicas {replicas}: no write could succeed"
    return ""


def _scaling_problem(scaled: dict[str, Any], partitions: dict[str, int]) -> str:
    """KEDA never runs more consumers than a trigger topic's partitions (unless told to let them
    idle): a maxReplicaCount above them promises a capacity that is not there."""
    spec = scaled.get("spec") or {}
    most = spec.get("maxReplicaCount")
    for trigger in spec.get("triggers") or []:
        metadata = trigger.get("metadata") or {}
        topic = metadata.get("topic")
        if trigger.get("type") != "kafka" or topic not in partitions or not isinstance(most, int):
            continue
        if most > partitions[topic] and str(metadata.get("allowIdleConsumers", "false")) != "true":
            return f"maxReplicaCount {most} > the {partitions[topic]} partitions of topic {topic}"
    return ""


def rules(target: Path, rendered: str) -> LevelReport:
    """What holds only across objects: each KafkaTopic's replicas (and min.insync.replicas) at
    most the broker nodes of its cluster's KafkaNodePools, and each KEDA ScaledObject's
    maxReplicaCount at most the partitions of its trigger topics, when both are rendered."""
    started = time.monotonic()
    objects = _objects(rendered)
    brokers: dict[str, int] = {}
    partitions: dict[str, int] = {}
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "KafkaNodePool" and "broker" in spec.get("roles", []):
            cluster = (obj["metadata"].get("labels") or {}).get(CLUSTER_LABEL, "")
            brokers[cluster] = brokers.get(cluster, 0) + int(spec.get("replicas", 0))
        if obj.get("kind") == "KafkaTopic" and isinstance(spec.get("partitions"), int):
            partitions[spec.get("topicName") or obj["metadata"]["name"]] = spec["partitions"]
    report = LevelReport("rules", target, 0.0)
    for obj in objects:
        if obj.get("kind") == "KafkaTopic":
            report.results.append(ObjectResult(*_identity(obj), _topic_problem(obj, brokers)))
        elif obj.get("kind") == "ScaledObject":
            report.results.append(ObjectResult(*_identity(obj), _scaling_problem(obj, partitions)))
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def api_server(tools: Tools, reference: Path) -> Iterator[ApiServer]:
    """A started API server with the operators' CRDs installed; stopped on leaving."""
    with ApiServer(tools) as api:
        api.install_crds(crd_files(reference))
        yield api


def server(
    api: ApiServer, target: Path, rendered: str, existing_namespaces: Iterable[str] = ()
) -> LevelReport:
    """(c) Server-side dry run of every object on a real API server."""
    started = time.monotonic()
    results = api.dry_run(_objects(rendered), existing_namespaces)
    return LevelReport("server", target, time.monotonic() - started, results)


def validate(
    tools: Tools,
    reference: Path,
    folders: Sequence[Path],
    levels: Sequence[str] = LEVELS,
    api: ApiServer | None = None,
) -> list[LevelReport]:
    """Every level asked of every target; a target that does not build goes no further."""
    reports: list[LevelReport] = []
    for folder in folders:
        for target in targets(folder):
            built, rendered = build(tools, target)
            if "build" in levels or built.error:
                reports.append(built)
            if built.error:
                continue
            if "schema" in levels:
                reports.append(schema(tools, reference, target, rendered))
            if "rules" in levels:
                reports.append(rules(target, rendered))
            if "server" in levels and api is not None:
                reports.append(server(api, target, rendered))
    return reports


def require(tools: Tools, reference: Path | None, levels: Iterable[str]) -> Path:
    """The reference folder, once every tool the levels need is there; else why not."""
    missing = sorted(
        {tool for level in levels for tool in TOOLS_OF_LEVEL.get(level, ()) if tool in tools.missing(tool)}
    )
    if missing:
        where = tools.problem or f"in {tools.bin_dir}"
        raise CannotValidate(f"not built ({where}): {', '.join(missing)} (run: make k8s-tools)")
    if reference is None:
        raise CannotValidate(
            "the shared reference folder (shared/reference/k8s-crds and k8s-schemas beside the clone) "
            "is not there; set FSEFLOW_K8S_REFERENCE to it"
        )
    return reference
