"""national-check's own metrics: what the CTI decided, and why."""

from __future__ import annotations

from prometheus_client import Counter

CLASSIFICATIONS = Counter("fseflow_classifications", "FSE classified, by outcome", ["classification"])
REASONS = Counter("fseflow_classification_reasons", "Reasons found on classified FSE", ["reason"])
REDELIVERED = Counter(
    "fseflow_redelivered_events",
    "Events seen again (replayed after a crash, a producer retry): stored verdict re-published",
)
