"""Inbound transports of pointage: what calls in (gRPC, HTTP, the stream processors' wiring)."""
