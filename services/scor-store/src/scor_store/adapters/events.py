"""Kafka side of scor-store: DocumentStored (metadata only) and AidGranted events."""

from __future__ import annotations

from fseflow.codec import encode, event_id
from fseflow.contracts.scor.v1.scor_pb2 import AidGranted, DocumentInfo, DocumentStored
from fseflow.kafka.base import OutRecord
from fseflow.topics import AID_GRANTED, DOCUMENT_STORED, TopicNames

SOURCE = "scor-store"


class ScorEvents:
    def __init__(self, names: TopicNames) -> None:
        self.stored_topic = names(DOCUMENT_STORED)
        self.aid_topic = names(AID_GRANTED)

    def stored(self, info: DocumentInfo) -> OutRecord:
        meta = info.metadata
        return encode(
            DocumentStored(document=info),
            topic=self.stored_topic,
            event_id=event_id("document-stored", meta.world, meta.document_id),
            source=SOURCE,
            key=f"{meta.world}/{meta.fse_id}".encode(),
        )

    def aid(self, aid: AidGranted) -> OutRecord:
        return encode(
            aid,
            topic=self.aid_topic,
            event_id=event_id("aid-granted", aid.world, aid.ps_id, aid.kind),
            source=SOURCE,
            key=f"{aid.world}/{aid.ps_id}".encode(),
        )
