"""The use cases of ingest, one module each: they call domain rules and adapters, never a
transport."""
