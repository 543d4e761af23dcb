"""`fseflow load` runs in the image (installed with --no-dev): nothing the tools import needs a
development dependency (Locust and its gevent stay in the locustfile's own process), matplotlib is
a runtime dependency of the tools and is imported only to draw, and it draws with no display on a
read-only home."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from fseflow_tools.load import plotting
from tests.unit.architecture.test_package_boundaries import imported_modules, installed_closure

ROOT = Path(__file__).resolve().parents[3]
DEV_ONLY = {"locust", "gevent", "geventhttpclient", "pyzmq"}


def test_the_tools_install_matplotlib_and_no_development_dependency() -> None:
    closure = installed_closure("fseflow-tools")
    assert {"matplotlib", "hdrhistogram", "aiohttp", "prometheus-client", "grpcio"} <= closure
    assert closure & DEV_ONLY == set()


def test_no_tools_module_imports_locust_or_gevent() -> None:
    sources = sorted(ROOT.glob("libs/fseflow-tools/src/**/*.py"))
    offenders = [
        f"{source.relative_to(ROOT)} imports {module}"
        for source in sources
        for module in sorted(imported_modules(source))
        if module.split(".")[0] in {"locust", "gevent"}
    ]
    assert offenders == []
    assert any(source.name == "run.py" for source in sources)  # the glob found the load package
    # The locustfile does import Locust: it is not part of the package.
    assert "locust" in imported_modules(ROOT / "deploy" / "load" / "locustfile.py")


def _loaded_after(code: str) -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return {name.split(".")[0] for name in completed.stdout.split()}


def test_the_command_and_the_run_start_without_matplotlib_or_locust() -> None:
    loaded = _loaded_after("import fseflow_tools.cli.main, fseflow_tools.cli.load, fseflow_tools.load.run")
    assert "fseflow_tools" in loaded and "grpc" in loaded
    assert loaded & {"matplotlib", "locust", "gevent"} == set()


def test_a_home_that_cannot_be_written_gets_a_config_dir_in_tmp(tmp_path: Path) -> None:
    unwritable = {"HOME": "/proc/fseflow-no-home"}  # mkdir fails there, even as root
    plotting.prepare(unwritable)
    assert unwritable["MPLBACKEND"] == "Agg"
    assert Path(unwritable["MPLCONFIGDIR"]).is_dir()
    assert os.access(unwritable["MPLCONFIGDIR"], os.W_OK)

    writable = {"HOME": str(tmp_path)}
    plotting.prepare(writable)
    assert "MPLCONFIGDIR" not in writable  # matplotlib's own directories, as usual
    chosen = {"HOME": "/proc/fseflow-no-home", "MPLCONFIGDIR": str(tmp_path), "MPLBACKEND": "svg"}
    plotting.prepare(chosen)
    assert chosen["MPLCONFIGDIR"] == str(tmp_path) and chosen["MPLBACKEND"] == "svg"


def test_a_plot_is_drawn_with_no_display_and_a_read_only_home(tmp_path: Path) -> None:
    target = tmp_path / "plot.png"
    code = (
        "from fseflow_tools.load import plotting\n"
        "figure = plotting.figure(4, 3)\n"
        "figure.add_subplot().plot([0, 1], [1, 0])\n"
        f"figure.savefig({str(target)!r})\n"
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("MPL", "XDG_", "DISPLAY"))
    }
    environment["HOME"] = "/proc/fseflow-no-home"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment
    )
    assert completed.returncode == 0, completed.stderr
    # matplotlib's own fallback warns "Matplotlib created a temporary cache directory at ...".
    assert "created a temporary" not in completed.stderr, completed.stderr
    assert target.read_bytes().startswith(b"\x89PNG")


def test_the_plotting_module_is_where_matplotlib_is_imported() -> None:
    load = ROOT / "libs" / "fseflow-tools" / "src" / "fseflow_tools" / "load"
    top_level = {
        source.name
        for source in load.glob("*.py")
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.ImportFrom | ast.Import)
        and any(
            (getattr(node, "module", None) or alias.name).startswith("matplotlib") for alias in node.names
        )
    }
    assert top_level == set()
