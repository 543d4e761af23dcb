"""Entry point: ``python -m pointage`` (or the ``fseflow-pointage`` script)."""

from __future__ import annotations

from fseflow.service import ServiceRuntime, load_settings, run_service
from pointage import bootstrap
from pointage.config import Settings


async def _serve() -> int:
    settings = load_settings(Settings)
    runtime = ServiceRuntime(bootstrap.SERVICE, settings)
    await bootstrap.build(settings, runtime)
    return await runtime.serve()


def main() -> None:
    run_service(_serve)


if __name__ == "__main__":
    main()
