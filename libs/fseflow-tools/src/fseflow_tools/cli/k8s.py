"""``fseflow k8s generate|validate``: the Kubernetes deployment of deploy/k8s (its README)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fseflow_tools.k8s.validate import LevelReport

app = typer.Typer(help="The Kubernetes deployment (deploy/k8s).", no_args_is_help=True)

DEPLOY_DIR = Path("deploy/k8s")


@app.command("generate")
def generate(
    directory: Annotated[Path, typer.Option("--dir", help="The kustomize tree")] = DEPLOY_DIR,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 naming the files that are stale")
    ] = False,
) -> None:
    """Write the KafkaTopics and KafkaUsers that follow from the topic registry, the services'
    ACLs and the shipped caisses (base/kafka/generated-*.yaml)."""
    from fseflow_tools.k8s import manifests

    if not (directory / "base").is_dir():
        typer.echo(f"--dir: {directory} has no base/ folder (the kustomize tree is deploy/k8s)", err=True)
        raise typer.Exit(2)
    if check:
        old = manifests.stale(directory)
        for path in old:
            typer.echo(f"stale: {path} (run: fseflow k8s generate)", err=True)
        raise typer.Exit(1 if old else 0)
    changed = manifests.write(directory)
    for path in changed:
        typer.echo(f"wrote {path}")
    if not changed:
        typer.echo("generated files already up to date", err=True)


@app.command("validate")
def validate(
    folders: Annotated[
        list[Path] | None, typer.Argument(help="Kustomizations, or folders with overlays/")
    ] = None,
    levels: Annotated[
        str, typer.Option(help="Comma-separated, of build, schema, rules, server")
    ] = "build,schema,rules,server",
) -> None:
    """kustomize build, kubeconform -strict offline, cross-object rules, and a server-side dry run
    on a throwaway kube-apiserver with the operators' CRDs (tools: make k8s-tools). Exit 1 when an
    object fails a level, 2 when a level cannot run here (a tool not built, no reference folder)."""
    chosen = [level.strip() for level in levels.split(",") if level.strip()]
    raise typer.Exit(run(folders or [DEPLOY_DIR], chosen))


def _print(report: LevelReport) -> None:
    state = "ok" if report.ok else "FAILED"
    print(f"{report.target} ({report.level}): {len(report.results)} objects, {report.seconds:.1f}s, {state}")
    for failure in report.failures:
        print(f"    {failure}")


def run(folders: Sequence[Path], levels: Sequence[str]) -> int:
    """Every level asked of every target, a line each; the exit status."""
    from fseflow_tools.k8s import validate as validation
    from fseflow_tools.k8s.tools import CannotValidate, find_tools, reference_dir

    unknown = sorted(set(levels) - set(validation.LEVELS))
    if unknown:
        choices = ", ".join(validation.LEVELS)
        print(f"--levels: unknown {', '.join(unknown)} (choose from {choices})", file=sys.stderr)
        return 2
    started = time.monotonic()
    tools = find_tools()
    try:
        reference = validation.require(tools, reference_dir(), levels)
        if "server" in levels:
            with validation.api_server(tools, reference) as api:
                print(f"kube-apiserver ready with the operators' CRDs in {time.monotonic() - started:.1f}s")
                reports = validation.validate(tools, reference, folders, levels, api)
        else:
            reports = validation.validate(tools, reference, folders, levels)
    except CannotValidate as error:
        print(f"k8s-validate: cannot validate: {error}", file=sys.stderr)
        return 2
    for report in reports:
        _print(report)
    failed = [report for report in reports if not report.ok]
    seconds = time.monotonic() - started
    print(f"k8s-validate: {len(reports) - len(failed)} checks ok, {len(failed)} failed ({seconds:.1f}s)")
    return 1 if failed else 0
