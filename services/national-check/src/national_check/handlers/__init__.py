"""The use cases of national_check, one module each: they call domain rules and adapters, never a
transport."""
