"""`fseflow pointage ...` commands and benchmarks."""
