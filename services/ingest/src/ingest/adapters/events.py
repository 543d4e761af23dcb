"""Kafka side of ingest: each accepted FSE and every ARL, with stable event ids."""

from __future__ import annotations

from fseflow.codec import encode, event_id
from fseflow.contracts.cti.v1.ingest_pb2 import Arl, ArlIssued, FseReceived
from fseflow.kafka.base import Headers, OutRecord, Producer
from fseflow.topics import ARL_ISSUED, FSE_RECEIVED, TopicNames

SOURCE = "ingest"


class LotPublisher:
    def __init__(self, producer: Producer, names: TopicNames) -> None:
        self._producer = producer
        self._fse_topic = names(FSE_RECEIVED)
        self._arl_topic = names(ARL_ISSUED)

    def fse_record(self, event: FseReceived, trace: Headers) -> OutRecord:
        return encode(
            event,
            topic=self._fse_topic,
            # Same lot and FSE, same id: a retried SubmitLot is deduplicated downstream.
            event_id=event_id("fse-received", event.world, event.lot_id, event.fse.fse_id),
            source=SOURCE,
            key=f"{event.world}/{event.fse.nir}".encode(),
            trace_headers=trace,
        )

    def arl_record(self, arl: Arl, trace: Headers, duplicate_attempt: int = 0) -> OutRecord:
        # A resubmitted lot id gets its own notice: number the attempt in the id.
        parts = ("arl", arl.world, arl.lot_id) + (
            ("duplicate", str(duplicate_attempt)) if duplicate_attempt else ()
        )
        return encode(
            ArlIssued(arl=arl),
            topic=self._arl_topic,
            event_id=event_id(*parts),
            source=SOURCE,
            key=f"{arl.world}/{arl.ps_id}".encode(),
            trace_headers=trace,
        )

    async def publish(self, records: list[OutRecord]) -> None:
        await self._producer.send(records)
