"""relances' own metrics: deadlines opened, steps fired, notices sent, days closed."""

from __future__ import annotations

from prometheus_client import Counter

OPENED = Counter("fseflow_relances_deadlines_opened", "FSE paid without their document: relances opened")
FIRED = Counter("fseflow_relances_steps_fired", "Relance steps fired (R13), by step", ["step"])
NOTICES = Counter("fseflow_relances_notices", "Notices sent to professionals, by kind", ["kind"])
DAYS_CLOSED = Counter("fseflow_relances_day_closes", "Business days the relances closed")
