"""fseflow's tools: the ``fseflow`` command (replay, demo, bench, chaos, the embedded stack,
subscribe, dead letters, caisse access, the development CA) and the services' own commands.

Services never import this package (tests/unit/test_package_boundaries.py).
"""
