"""`fseflow scor_store ...` commands and benchmarks."""
