"""deploy/load read as data: the Job runs deploy/k8s's image (`fseflow`, rewritten by kustomize
as there) as uid 10001 on a read-only root with /tmp writable, with options `fseflow load` has and
variables it reads; its broker user has exactly the rights fseflow_tools.load.access derives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
import yaml

from fseflow.settings import KafkaSettings, PostgresSettings
from fseflow_tools.cli.main import app
from fseflow_tools.k8s import manifests
from fseflow_tools.load.access import LOAD_USER, load_grants
from fseflow_tools.load.scrape import ENV as METRICS_URLS

ROOT = Path(__file__).resolve().parents[3]
LOAD = ROOT / "deploy" / "load"
# Read by the load command beside the settings classes (fseflow_tools.endpoints, load.scrape,
# load.plotting), or by Python.
TOOL_VARIABLES = {"FSEFLOW_INGEST_ADDR", "FSEFLOW_READ_FROM", METRICS_URLS, "MPLCONFIGDIR"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def _one(path: Path, kind: str) -> dict[str, Any]:
    [found] = [d for d in _documents(path) if d["kind"] == kind]
    return found


def test_the_load_user_has_exactly_the_rights_the_tool_derives() -> None:
    user = _one(LOAD / "kafka-user.yaml", "KafkaUser")
    assert user == manifests.kafka_user(LOAD_USER, load_grants(), "load"), (
        "deploy/load/kafka-user.yaml differs from fseflow_tools.load.access.load_grants"
    )


def test_the_job_runs_the_deployments_image_as_its_user_on_a_read_only_root() -> None:
    [base] = yaml.safe_load((ROOT / "deploy" / "k8s" / "base" / "kustomization.yaml").read_text())["images"]
    [here] = yaml.safe_load((LOAD / "kustomization.yaml").read_text())["images"]
    assert here == base  # the same `fseflow` name and tag rewrite
    pod = _one(LOAD / "job.yaml", "Job")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == base["name"]
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsNonRoot"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    env = {variable["name"]: variable for variable in container["env"]}
    assert env["MPLCONFIGDIR"]["value"].startswith("/tmp/")
    assert env["KAFKA_SASL_USERNAME"]["value"] == LOAD_USER


def _load_options() -> set[str]:
    group: Any = typer.main.get_command(app)  # a click group (typer's own click, or click)
    load = group.commands["load"]
    return {opt for param in load.params for opt in (*param.opts, *param.secondary_opts)}


def test_the_jobs_command_line_is_one_fseflow_load_takes() -> None:
    [container] = _one(LOAD / "job.yaml", "Job")["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["fseflow", "load"]
    options = _load_options()
    given = [word for word in command[2:] if word.startswith("--")]
    assert given and set(given) <= options, set(given) - options
    # In a container the generator would count the node's cores: its workers are its CPUs.
    workers = command[command.index("--workers") + 1]
    assert workers == container["resources"]["requests"]["cpu"] == container["resources"]["limits"]["cpu"]


def test_every_variable_the_job_sets_is_one_the_load_command_reads() -> None:
    [container] = _one(LOAD / "job.yaml", "Job")["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": "fseflow-settings"}}]
    known = {name.upper() for name in (*KafkaSettings.model_fields, *PostgresSettings.model_fields)}
    known |= TOOL_VARIABLES
    set_here = {variable["name"] for variable in container["env"]}
    assert set_here <= known, set_here - known
    assert {"KAFKA_SASL_PASSWORD", "DATABASE_URL", "FSEFLOW_INGEST_ADDR", METRICS_URLS} <= set_here
