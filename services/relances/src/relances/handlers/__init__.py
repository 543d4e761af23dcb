"""The use cases of relances, one module each: they call domain rules and adapters, never a
transport."""
