"""ingest's metrics: its series are the shared runtime's (gRPC server interceptor, stream and dead-letter
counters in fseflow.telemetry.metrics); a series of its own is declared here."""
