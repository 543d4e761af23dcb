"""Wires ingest: real adapters from the settings; every dependency built here, none at import."""

from __future__ import annotations

from fseflow.bootstrap_helpers import (
    follow_clock,
    open_database,
    wait_for_refdata,
    watch_dead_letters,
)
from fseflow.db import migrate
from fseflow.kafka.factory import KafkaFactory
from fseflow.service import ServiceRuntime
from fseflow.topics import topics_of
from fseflow.vocabulary import refdata
from ingest.adapters import postgres
from ingest.adapters.events import LotPublisher
from ingest.adapters.scor_client import ScorClient
from ingest.config import Settings
from ingest.entrypoints import streams
from ingest.entrypoints.grpc import GrpcFrontDoor
from ingest.handlers.lots import SERVICE, LotReceiver

__all__ = ["SERVICE", "build"]


async def build(settings: Settings, runtime: ServiceRuntime) -> None:
    kafka = KafkaFactory(settings, client_id=SERVICE)
    partitions = await kafka.ensure_topics(topics_of(SERVICE))
    pool = await open_database(settings, runtime)
    await migrate(pool, SERVICE, postgres.MIGRATIONS)
    await wait_for_refdata(pool)
    async with pool.acquire() as conn:
        routing = await refdata.read_routing(conn)

    producer = kafka.producer()
    await producer.start()
    runtime.add_cleanup(producer.stop)

    clock = follow_clock(kafka, runtime)
    watch_dead_letters(kafka, runtime, settings)
    names = kafka.names
    streams.start(kafka, runtime, producer, partitions)

    scor = ScorClient(
        settings.scor_addr, ca=settings.scor_tls_ca, cert=settings.scor_tls_cert, key=settings.scor_tls_key
    )
    runtime.add_cleanup(scor.close)
    receiver = LotReceiver(
        postgres.LotStore(pool),
        LotPublisher(producer, names),
        routing,
        clock,
        scor,
        max_document_bytes=settings.scor_max_document_bytes,
        put_concurrency=settings.scor_put_concurrency,
    )
    front_door = GrpcFrontDoor(receiver, settings.grpc_host, settings.grpc_port)
    runtime.add_task("grpc", front_door.run, front_door.request_stop, front_door.readiness)
