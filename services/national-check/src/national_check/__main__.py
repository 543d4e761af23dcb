"""Entry point: ``python -m national_check`` (or the ``fseflow-national-check`` script)."""

from __future__ import annotations

from fseflow.service import serve
from national_check import bootstrap
from national_check.config import Settings


def main() -> None:
    serve(bootstrap.SERVICE, Settings, bootstrap.build)


if __name__ == "__main__":
    main()
