"""The services' own commands and benchmarks (registered by fseflow_tools.cli.main)."""
