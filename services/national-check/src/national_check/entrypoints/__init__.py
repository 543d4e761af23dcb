"""Inbound transports of national_check: what calls in (gRPC, HTTP, the stream processors' wiring)."""
