"""`fseflow db migrate` knows every component's migrations under the name its own code records
them with, so that a service starting after the setup Job finds nothing left to apply."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from fseflow_tools.migrations import COMPONENTS, migrations_of
from tests.unit.architecture.test_released_migrations import RELEASED

ROOT = Path(__file__).resolve().parents[3]


def test_every_migration_list_is_applied() -> None:
    applied = {id(migrations_of(module)) for _, module in COMPONENTS}
    assert applied == {id(migrations_of(module)) for module in RELEASED}
    assert len(COMPONENTS) == len(RELEASED)


def test_each_service_records_its_migrations_under_the_same_component_name() -> None:
    services = [(c, m) for c, m in COMPONENTS if not m.startswith("fseflow.")]
    assert len(services) == 5
    for component, module in services:
        package = module.split(".")[0]
        bootstrap = next(ROOT.glob(f"services/*/src/{package}/bootstrap.py")).read_text()
        [called] = re.findall(r"await migrate\(pool, ([^,]+), postgres\.MIGRATIONS\)", bootstrap)
        name = (
            called.strip('"')
            if called.startswith('"')
            else getattr(importlib.import_module(f"{package}.bootstrap"), called)
        )
        assert name == component, package
