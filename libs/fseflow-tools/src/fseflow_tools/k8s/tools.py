"""Where the Kubernetes validation tools and schemas are.

The binaries are built by tools/k8s/build.sh into a cache outside the clone (`--bin-dir` says
where); the operators' CRDs and custom-resource JSON Schemas are read from the project's shared
reference folder (`../shared/reference`, never copied in); the core JSON Schemas come from the
`kubernetes-validate` package (a development dependency: 108 MB of schemas), rewritten once into
the layout kubeconform reads. Works from a clone only: the build script and the shared folder are
found beside this repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

# libs/fseflow-tools/src/fseflow_tools/k8s/tools.py -> the repository
REPO = Path(__file__).resolve().parents[5]
BUILD_SCRIPT = REPO / "tools" / "k8s" / "build.sh"
# The core schemas' release: the newest kubernetes-validate ships that is not newer than the
# kube-apiserver of tools/k8s/kube-apiserver/go.mod (v1.36.x).
KUBERNETES_SCHEMA_VERSION = "1.36.0"
ALL_TOOLS = ("kustomize", "kubeconform", "etcd", "kube-apiserver")


class CannotValidate(RuntimeError):
    """A level cannot run here (a tool, a package or a reference folder is missing)."""


@dataclass(frozen=True)
class Tools:
    bin_dir: Path
    problem: str = ""  # why the folder is unknown (no Go to compute the pins' hash)

    def path(self, name: str) -> Path:
        return self.bin_dir / name

    def missing(self, *names: str) -> list[str]:
        return [name for name in names if self.problem or not os.access(self.path(name), os.X_OK)]


def find_tools() -> Tools:
    """The folder of the pinned binaries (FSEFLOW_K8S_BIN overrides it); nothing is built."""
    override = os.environ.get("FSEFLOW_K8S_BIN")
    if override:
        return Tools(Path(override))
    out = subprocess.run(["bash", str(BUILD_SCRIPT), "--bin-dir"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        return Tools(
            Path("/nonexistent"), out.stderr.strip() or f"build.sh --bin-dir: status {out.returncode}"
        )
    return Tools(Path(out.stdout.strip()))


def reference_dir() -> Path | None:
    """The shared reference folder (FSEFLOW_K8S_REFERENCE overrides it): `shared/reference` beside
    the clone, or beside a folder above it (a worktree lives one level deeper than the clone)."""
    override = os.environ.get("FSEFLOW_K8S_REFERENCE")
    if override:
        return Path(override)
    for parent in REPO.parents[:3]:
        candidate = parent / "shared" / "reference"
        if (candidate / "k8s-crds").is_dir() and (candidate / "k8s-schemas").is_dir():
            return candidate
    return None


def crd_files(reference: Path) -> list[Path]:
    return sorted((reference / "k8s-crds").glob("*.yaml"))


def cache_root() -> Path:
    """The tools' cache root; the schemas rewritten for kubeconform are kept there too."""
    explicit = os.environ.get("FSEFLOW_K8S_TOOLS")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("FSEFLOW_CACHE") or str(Path.home() / ".cache" / "fseflow")
    return Path(cache) / "k8s-tools"


def _without_absolute_refs(node: Any) -> Any:
    """kubernetes-validate's schemas name their shared definitions `/api/_definitions.json`,
    resolved against an https `$id`; kubeconform reads files, so: relative refs, no `$id`."""
    if isinstance(node, dict):
        out = {key: _without_absolute_refs(value) for key, value in node.items() if key != "$id"}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json"):
            out["$ref"] = ref.removeprefix("/api/")
        return out
    if isinstance(node, list):
        return [_without_absolute_refs(item) for item in node]
    return node


def core_schema_root() -> Path:
    """A folder laid out as kubeconform expects (`v<version>-standalone-strict/<kind>-<group>-
    <version>.json`), made from the installed kubernetes-validate once (about 5 MB)."""
    try:
        package_version = metadata.version("kubernetes-validate")
    except metadata.PackageNotFoundError:
        raise CannotValidate(
            "the core schemas come from the kubernetes-validate package, a development dependency "
            "that is not installed here (run: make setup)"
        ) from None
    root = cache_root() / "core-schemas" / f"kubernetes-validate-{package_version}"
    target = root / f"v{KUBERNETES_SCHEMA_VERSION}-standalone-strict"
    if (target / "_definitions.json").is_file():
        return root
    source = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    source = source / f"v{KUBERNETES_SCHEMA_VERSION}-local-strict"
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name.endswith(".json"):
            schema = _without_absolute_refs(json.loads(entry.read_text()))
            (partial / entry.name).write_text(json.dumps(schema))
    try:
        partial.rename(target)
    except OSError:  # another process finished first: its copy is the same
        shutil.rmtree(partial, ignore_errors=True)
    return root
