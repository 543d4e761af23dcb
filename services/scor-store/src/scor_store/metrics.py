"""scor-store's own metrics."""

from __future__ import annotations

from prometheus_client import Counter

STORED = Counter("fseflow_scor_documents_stored", "Documents stored", ["channel"])
STORED_BYTES = Counter("fseflow_scor_bytes_stored", "Bytes of documents stored")
READ = Counter("fseflow_scor_documents_read", "Documents served")
DENIED = Counter("fseflow_scor_access_denied", "Accesses refused", ["action"])
DATA_LOSS = Counter("fseflow_scor_data_loss", "Reads refused: not rebuildable, or the seal did not hold")
PURGED = Counter("fseflow_scor_documents_purged", "Documents purged at the end of their retention")
