"""Pure rules of the Scor document store: formats, quality, sealing, erasure coding, access,
retention and the quality aid. No I/O here."""
