"""scor_store service."""
