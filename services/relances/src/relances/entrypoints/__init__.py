"""Inbound transports of relances: what calls in (gRPC, HTTP, the stream processors' wiring)."""
