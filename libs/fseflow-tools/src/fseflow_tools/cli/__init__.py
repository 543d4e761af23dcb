"""The fseflow command line (typer)."""
