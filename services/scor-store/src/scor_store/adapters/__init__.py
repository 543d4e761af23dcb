"""Adapters of scor-store: the two supports on disk, PostgreSQL, Kafka, the gRPC server (mTLS)."""
