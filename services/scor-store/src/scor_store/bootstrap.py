"""Wires scor-store: the vault on its two supports, PostgreSQL, the clock, the mTLS server."""

from __future__ import annotations

import sys

from fseflow.bootstrap_helpers import follow_clock, open_database, watch_dead_letters
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import topics_of
from scor_store.adapters import postgres
from scor_store.adapters.events import ScorEvents
from scor_store.adapters.vault import Support, Vault
from scor_store.config import Settings
from scor_store.entrypoints import streams
from scor_store.entrypoints.grpc import ScorServer
from scor_store.handlers.day_closures import DayClosures
from scor_store.handlers.documents import SERVICE, ScorStore

__all__ = ["SERVICE", "build"]


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    # Threads that hand the GIL back at every read or write syscall otherwise wait up to the
    # default 5 ms for it behind the event loop: 1 ms measured +40 % puts (docs/decisions.md).
    sys.setswitchinterval(0.001)
    kafka = KafkaFactory(settings, client_id=SERVICE)
    names = kafka.names
    partitions = await kafka.ensure_topics(topics_of(SERVICE))
    pool = await open_database(settings, runtime)
    await migrate(pool, SERVICE, postgres.MIGRATIONS)
    for directory in settings.supports:
        directory.mkdir(parents=True, exist_ok=True)
    vault = Vault([Support(d, fsync=settings.scor_fsync) for d in settings.supports], settings.seal_key())

    async def close_vault() -> None:
        store.io.shutdown(wait=True)
        vault.close()

    runtime.add_cleanup(close_vault)
    producer = kafka.producer()
    await producer.start()
    runtime.add_cleanup(producer.stop)
    clock = follow_clock(kafka, runtime)
    watch_dead_letters(kafka, runtime, settings)
    events = ScorEvents(names)
    store = ScorStore(
        vault=vault,
        documents=postgres.Documents(pool),
        audit=postgres.AuditLog(pool),
        producer=producer,
        events=events,
        clock=clock,
        max_bytes=settings.scor_max_document_bytes,
    )
    streams.start(kafka, runtime, producer, partitions, DayClosures(pool, store, postgres.Aids(pool), events))
    server = ScorServer(store, settings)
    runtime.add_task("grpc", server.run, server.request_stop, server.readiness)
