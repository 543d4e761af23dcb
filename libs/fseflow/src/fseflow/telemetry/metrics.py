"""The metrics every service exposes on /metrics. Names carry the ``fseflow_`` prefix."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("fseflow_messages_consumed", "Records consumed", ["service", "topic"])
PRODUCED = Counter("fseflow_messages_produced", "Records produced and acknowledged", ["service", "topic"])
BATCH_SECONDS = Histogram(
    "fseflow_batch_processing_seconds",
    "Time to process one consumed batch: decode, handle, produce, commit",
    ["service", "stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_RECORDS = Histogram(
    "fseflow_batch_records",
    "Records per consumed batch",
    ["service", "stage"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
CONSUMER_LAG = Gauge(
    "fseflow_consumer_lag",
    "Records between the committed position and the high-water mark of the last fetch",
    ["service", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "fseflow_dead_letters",
    "Records sent to a dead-letter topic",
    ["service", "topic", "error_type"],
)
BATCH_FAILURES = Counter(
    "fseflow_batch_failures",
    "Failed attempts at a batch, retried with backoff (database or broker down, a bug)",
    ["service", "stage", "error_type"],
)
LAST_PROGRESS = Gauge(
    "fseflow_last_progress_timestamp_seconds",
    "When the stage last completed a batch or found nothing to do (time() - this = stalled for)",
    ["service", "stage"],
)
EVENT_LATENCY = Histogram(
    "fseflow_fse_latency_seconds",
    "Wall-clock time from the lot's receipt by ingest to this stage's output",
    ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
LAST_CLOSED_DAY = Gauge(
    "fseflow_last_closed_business_day",
    "Last closed business day of the 16 most recently closed worlds, as a date.toordinal()",
    ["world"],
)
LATE_WORLDS = Gauge(
    "fseflow_day_close_late_worlds",
    "Worlds whose day the clock closed longer ago than DAY_CLOSE_LATE_AFTER_S, still open here",
    ["service"],
)
DAY_CLOSE_LATE_SECONDS = Gauge(
    "fseflow_day_close_late_seconds",
    "Since when the most overdue day closure of this stage waits (0 when none is late)",
    ["service"],
)
OFFSET_GAPS = Counter(
    "fseflow_offset_gaps",
    "Fetches whose records skipped offsets of a partition, fetched again (a broker race)",
    ["client", "topic"],
)
DEAD_LETTER_TOPIC_RECORDS = Gauge(
    "fseflow_dead_letter_topic_records",
    "Records in the service's own dead-letter topic (high minus low watermark of each partition, "
    "from fetch responses); every replica reports the whole topic",
    ["service"],
)
ASSIGNED_PARTITIONS = Gauge(
    "fseflow_consumer_assigned_partitions",
    "Input partitions this process's consumer holds now (0 while its group rebalances)",
    ["service", "stage"],
)
REBALANCING = Gauge(
    "fseflow_consumer_rebalancing",
    "1 while the group has taken this consumer's partitions back and not given it a new share",
    ["service", "stage"],
)
READY = Gauge(
    "fseflow_ready",
    "1 when the service is ready (/readyz answers 200), 0 while it waits for something; set at "
    "each scrape and each readiness probe",
    ["service"],
)
