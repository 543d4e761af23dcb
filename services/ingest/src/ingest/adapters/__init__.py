"""Adapters of ingest: PostgreSQL (lots, directory), Kafka (publication), gRPC (front door)."""
