"""The shared reference vocabulary: the business calendar, NGAP acts, verdicts (classifications and
reasons), supporting documents, and the national reference data (CTI routing, caisses, tariffs)."""
