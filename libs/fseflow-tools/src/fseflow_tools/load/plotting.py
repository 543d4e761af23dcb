"""matplotlib made ready for a container: no display, and a read-only root filesystem.

The plots are drawn on ``Figure`` objects with no pyplot, so no interactive backend is ever
chosen; ``MPLBACKEND=Agg`` says so to anything else that asks. matplotlib writes its font cache
under its config and cache directories (``~/.config/matplotlib``, ``~/.cache/matplotlib``): where
they cannot be written (the image runs as uid 10001 on a read-only root, only /tmp writable) it
would make a new temporary directory, warn, and rebuild the cache, at every run. Here
``MPLCONFIGDIR`` is set once to a directory of the temporary directory instead. matplotlib is
imported on the first figure only, so that ``fseflow`` starts without it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _default_dirs(environ: Mapping[str, str]) -> list[Path]:
    """matplotlib's own choice on Linux when MPLCONFIGDIR is unset (its config and cache)."""
    home = Path(environ.get("HOME") or Path.home())
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    cache = Path(environ.get("XDG_CACHE_HOME") or home / ".cache")
    return [config / "matplotlib", cache / "matplotlib"]


def prepare(environ: dict[str, str] | None = None) -> None:
    """Set MPLBACKEND and, where matplotlib's directories cannot be written, MPLCONFIGDIR (both
    only when unset). Call before matplotlib is imported."""
    env = os.environ if environ is None else environ
    env.setdefault("MPLBACKEND", "Agg")
    if "MPLCONFIGDIR" in env or all(_writable(p) for p in _default_dirs(env)):
        return
    fallback = Path(tempfile.gettempdir()) / f"fseflow-matplotlib-{os.getuid()}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    env["MPLCONFIGDIR"] = str(fallback)


def figure(width: float, height: float) -> Figure:
    """A new figure on the Agg canvas."""
    prepare()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))
