"""Metrics (Prometheus), traces (OpenTelemetry, context in Kafka headers) and structured logs."""
