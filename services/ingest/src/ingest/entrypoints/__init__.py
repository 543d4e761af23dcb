"""Inbound transports of ingest: what calls in (gRPC, HTTP, the stream processors' wiring)."""
