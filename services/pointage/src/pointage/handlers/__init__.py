"""The use cases of pointage, one module each: they call domain rules and adapters, never a
transport."""
