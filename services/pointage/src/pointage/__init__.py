"""pointage service."""
