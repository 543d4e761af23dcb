"""Entry point: ``python -m scor_store`` (or the ``fseflow-scor-store`` script)."""

from __future__ import annotations

from fseflow.service import serve
from scor_store import bootstrap
from scor_store.config import Settings


def main() -> None:
    serve(bootstrap.SERVICE, Settings, bootstrap.build)


if __name__ == "__main__":
    main()
