"""Entry point: ``python -m national_check`` (or the ``fseflow-national-check`` script)."""

from __future__ import annotations

from fseflow.service import ServiceRuntime, load_settings, run_service
from national_check import bootstrap
from national_check.config import Settings
from national_check.handlers import SERVICE


async def _serve() -> int:
    settings = load_settings(Settings)
    runtime = ServiceRuntime(SERVICE, settings)
    await bootstrap.build(settings, runtime)
    return await runtime.serve()


def main() -> None:
    run_service(_serve)


if __name__ == "__main__":
    main()
