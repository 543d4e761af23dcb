"""Entry point: ``python -m relances`` (or the ``fseflow-relances`` script)."""

from __future__ import annotations

from fseflow.service import serve
from relances import bootstrap
from relances.config import Settings


def main() -> None:
    serve(bootstrap.SERVICE, Settings, bootstrap.build)


if __name__ == "__main__":
    main()
