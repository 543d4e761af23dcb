"""Every service has the skeleton of docs/adding-a-service.md, and its layers point one way:
entrypoints -> handlers -> domain, handlers -> adapters; domain rules import no adapter, handler
or transport, and use cases import no transport."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = sorted(p for p in ROOT.glob("services/*/src/*") if (p / "__init__.py").exists())
SKELETON = (
    "__main__.py",
    "config.py",
    "bootstrap.py",
    "metrics.py",
    "entrypoints/__init__.py",
    "entrypoints/streams.py",
    "handlers/__init__.py",
    "domain/__init__.py",
    "adapters/__init__.py",
    "adapters/events.py",
)
# A layer may not import these layers of its own service.
FORBIDDEN = {
    "domain": ("adapters", "handlers", "entrypoints", "bootstrap"),
    "handlers": ("entrypoints", "bootstrap"),
    "adapters": ("handlers", "entrypoints", "bootstrap"),
}


def test_five_services() -> None:
    assert [p.name for p in PACKAGES] == ["ingest", "national_check", "pointage", "relances", "scor_store"]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_skeleton(package: Path) -> None:
    missing = [part for part in SKELETON if not (package / part).exists()]
    postgres = (package / "adapters" / "postgres.py").exists() or (package / "adapters" / "postgres").is_dir()
    assert (missing, postgres) == ([], True)


def imports_of(source: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_layers_point_one_way(package: Path) -> None:
    wrong = []
    for layer, forbidden in FORBIDDEN.items():
        for source in sorted((package / layer).rglob("*.py")):
            for module in sorted(imports_of(source)):
                parts = module.split(".")
                if parts[0] == package.name and len(parts) > 1 and parts[1] in forbidden:
                    wrong.append(f"{source.relative_to(ROOT)} imports {module}")
    assert wrong == []
