"""Adapters of national-check: PostgreSQL (reference bases, cross-FSE state), protobuf mapping."""
