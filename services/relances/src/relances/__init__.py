"""relances service."""
