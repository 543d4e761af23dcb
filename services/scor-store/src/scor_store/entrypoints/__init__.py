"""Inbound transports of scor_store: what calls in (gRPC, HTTP, the stream processors' wiring)."""
