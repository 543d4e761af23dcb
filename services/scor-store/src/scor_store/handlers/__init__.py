"""The use cases of scor_store, one module each: they call domain rules and adapters, never a
transport."""
