"""`fseflow relances ...` commands and benchmarks."""
