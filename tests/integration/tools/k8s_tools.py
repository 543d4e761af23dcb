"""What the manifest tests share: the pinned tools (skipped, saying why, when `make k8s-tools` has
not built them — a failure instead where FSEFLOW_K8S_REQUIRED=1, as in CI), and one API server
with the operators' CRDs per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fseflow_tools.k8s import validate
from fseflow_tools.k8s.apiserver import ApiServer
from fseflow_tools.k8s.tools import Tools, find_tools, reference_dir

TOOLS = find_tools()
REFERENCE = reference_dir()


def _missing(reason: str) -> None:
    if os.environ.get("FSEFLOW_K8S_REQUIRED") == "1":
        pytest.fail(f"FSEFLOW_K8S_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def needs(*tools: str) -> tuple[Tools, Path]:
    """The tools and the shared reference folder, or skip (fail in CI) naming what is missing."""
    missing = TOOLS.missing(*tools)
    if missing:
        where = TOOLS.problem or f"in {TOOLS.bin_dir}"
        _missing(f"{', '.join(missing)} not built ({where}): run make k8s-tools")
    if REFERENCE is None:
        _missing("shared/reference (the operators' CRDs and schemas) is not beside the clone")
    assert REFERENCE is not None
    return TOOLS, REFERENCE


@pytest.fixture(scope="session")
def k8s_api() -> Iterator[ApiServer]:
    tools, reference = needs("etcd", "kube-apiserver")
    with validate.api_server(tools, reference) as server:
        yield server
