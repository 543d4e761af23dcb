"""Entry point: ``python -m pointage`` (or the ``fseflow-pointage`` script)."""

from __future__ import annotations

from fseflow.service import serve
from pointage import bootstrap
from pointage.config import Settings


def main() -> None:
    serve(bootstrap.SERVICE, Settings, bootstrap.build)


if __name__ == "__main__":
    main()
