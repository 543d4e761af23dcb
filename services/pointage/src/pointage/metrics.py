"""pointage's own metrics: what the pôle received, delivered, decided, paid and matched."""

from __future__ import annotations

from prometheus_client import Counter

FSE_RECEIVED = Counter("fseflow_pointage_fse_received", "Classified FSE taken in by the pôle")
DOCUMENTS_RECEIVED = Counter("fseflow_pointage_documents_received", "Stored documents' metadata taken in")
MATCHED = Counter("fseflow_pointage_matches", "Documents matched to their FSE (R8, R16)")
DAYS_CLOSED = Counter("fseflow_pointage_day_closes", "Business days the pôle closed")
DELIVERED = Counter("fseflow_pointage_delivered", "FSE delivered to their pôle (R3)")
VALIDATED = Counter("fseflow_pointage_validated", "Accords validated (R4), by whom", ["by"])
DECIDED = Counter("fseflow_pointage_decided", "Litigieuses decided by a technician (R5)", ["outcome"])
PAID = Counter("fseflow_pointage_paid_fse", "FSE paid (R4)")
NOTICES = Counter("fseflow_pointage_compagnon_notices", "Compagnon notices sent (R6)")
