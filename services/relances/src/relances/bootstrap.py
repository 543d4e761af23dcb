"""Wires relances: for now it follows the business clock and reports its health.

The service's own work (the deadline engine and recoveries) comes with its issue; what is here
is what every stage needs from day one: topics, database, the clock, /metrics and a graceful
stop.
"""

from __future__ import annotations

from fseflow.bootstrap_helpers import follow_clock, open_database
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import topics_of
from relances.config import Settings

SERVICE = "relances"


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    kafka = KafkaFactory(settings, client_id=SERVICE)
    await kafka.ensure_topics(topics_of(SERVICE))
    await open_database(settings, runtime)
    follow_clock(kafka, runtime)
