"""Entry point: ``python -m ingest`` (or the ``fseflow-ingest`` script)."""

from __future__ import annotations

from fseflow.service import serve
from ingest import bootstrap
from ingest.config import Settings


def main() -> None:
    serve(bootstrap.SERVICE, Settings, bootstrap.build)


if __name__ == "__main__":
    main()
