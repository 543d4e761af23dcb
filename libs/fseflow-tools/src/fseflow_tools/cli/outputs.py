"""Where a command will write, checked before it runs: a replay or a load run of many minutes
must not end in a traceback because its ``--out`` cannot be written."""

from __future__ import annotations

import tempfile
from pathlib import Path


def _probe(directory: Path) -> str | None:
    """None when a file can be created in ``directory`` (made if missing), else why not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".fseflow-probe-"):
            pass
    except (FileExistsError, NotADirectoryError):
        return f"{_first_file(directory)} is a file, not a directory"
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _first_file(directory: Path) -> Path:
    for candidate in (directory, *directory.parents):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return directory


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file (its folders are made), or None."""
    if path.is_dir():
        return "is a directory"
    return _probe(path.parent)


def directory_problem(path: Path) -> str | None:
    """Why files cannot be written into the directory ``path`` (made if missing), or None."""
    return _probe(path)
