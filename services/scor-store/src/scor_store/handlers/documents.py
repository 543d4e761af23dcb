"""The use cases of the national document store (R12, R14, R16, R17).

Every access goes through ``authorize``: the decision is written to the append-only audit trail
before the answer, and a denial never says whether the document exists. Puts are sealed,
erasure-coded and written to both supports before their metadata is committed and their
DocumentStored event published; reads check every piece and the seal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from fseflow.business_clock import ClockFollower
from fseflow.contracts.scor.v1.scor_pb2 import DocumentInfo, DocumentMetadata
from fseflow.habilitation import Habilitation
from fseflow.kafka.base import Producer
from fseflow.settings import DEFAULT_WORLD
from fseflow.vocabulary import calendar, documents
from scor_store import metrics
from scor_store.adapters.events import ScorEvents
from scor_store.adapters.postgres import AuditEntry, AuditLog, DocumentRow, Documents
from scor_store.adapters.vault import DataLoss, Vault
from scor_store.domain import sealing
from scor_store.domain.access import Action, DocumentFacts, decide, sees_everything
from scor_store.domain.quality import assess

log = logging.getLogger(__name__)
SERVICE = "scor-store"
T = TypeVar("T")


class Denied(Exception):
    """Not allowed, or not found for a caller who may not know: PERMISSION_DENIED."""


class NotFound(Exception):
    """No such document, for a caller allowed to know it: NOT_FOUND."""


class Conflict(Exception):
    """The document id is already stored with other bytes: ALREADY_EXISTS."""


class InvalidRequest(ValueError):
    """A field of the request is missing or malformed: INVALID_ARGUMENT, naming the field."""


def _organism(value: str) -> bool:
    return len(value) == 6 and value[2] == "-" and (value[:2] + value[3:]).isdigit()


def validate_metadata(meta: DocumentMetadata) -> date:
    """Every problem of a put's metadata, as InvalidRequest; the day received when fine."""
    problems = []
    for name in ("document_id", "fse_id", "ps_id"):
        if not getattr(meta, name):
            problems.append(f"metadata.{name}: missing")
    if meta.kind not in documents.KINDS:
        problems.append(f"metadata.kind: {meta.kind!r} is not prescription, fsp or explanation")
    if meta.channel and meta.channel not in documents.CHANNELS:
        problems.append(f"metadata.channel: {meta.channel!r} is not scor or paper")
    for name in ("insured_organism", "receiving_organism"):
        if not _organism(getattr(meta, name)):
            problems.append(f"metadata.{name}: {getattr(meta, name)!r} is not RR-CCC")
    received: date | None = None
    try:
        received = calendar.parse_day(meta.received_on)
    except ValueError as exc:
        problems.append(f"metadata.received_on: {exc}")
    if problems:
        raise InvalidRequest("; ".join(problems))
    assert received is not None
    return received


def info_of(row: DocumentRow) -> DocumentInfo:
    return DocumentInfo(
        metadata=DocumentMetadata(
            world=row.world,
            document_id=row.document_id,
            fse_id=row.fse_id,
            ps_id=row.ps_id,
            insured_organism=row.insured_organism,
            receiving_organism=row.receiving_organism,
            kind=row.kind,
            received_on=row.received_on.isoformat(),
            channel=row.channel,
        ),
        content_type=row.content_type,
        size_bytes=row.layout.size,
        sha256=row.layout.sha256,
        exploitable=row.exploitable,
        quality_reason=row.quality_reason,
        stored_on=row.received_on.isoformat(),
        purged_on=row.purged_on.isoformat() if row.purged_on else "",
    )


@dataclass
class ScorStore:
    vault: Vault
    documents: Documents
    audit: AuditLog
    producer: Producer
    events: ScorEvents
    clock: ClockFollower
    max_bytes: int
    # Vault work (disk, hashing, erasure coding, the quality check) runs here. Few threads: more
    # only queue on the GIL and the filesystem journal (measured: 4 beat 8, 16 and 32).
    io: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="scor-vault")
    )

    async def _in_io(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.io, fn, *args)

    def _today(self, world: str) -> date | None:
        return self.clock.open_day(world)

    async def authorize(
        self, who: Habilitation, action: Action, world: str, document_id: str, row: DocumentRow | None
    ) -> None:
        facts = None if row is None else DocumentFacts(row.ps_id, row.insured_organism, row.received_on)
        decision = decide(who, action, facts, self._today(world))
        await self.audit.record(
            AuditEntry(
                world, document_id, str(action), who.subject, who.label, decision.granted, decision.reason
            )
        )
        if not decision.granted:
            metrics.DENIED.labels(str(action)).inc()
            raise Denied("not allowed to access this document")
        if row is None and action is not Action.PUT:
            if sees_everything(who, action):
                raise NotFound(f"document {document_id!r} is not stored")
            raise Denied("not allowed to access this document")

    async def put(
        self, who: Habilitation, meta: DocumentMetadata, content: bytes
    ) -> tuple[DocumentInfo, bool]:
        world = meta.world or DEFAULT_WORLD
        meta.world = world
        meta.channel = meta.channel or "scor"
        received_on = validate_metadata(meta)
        existing = await self.documents.get(world, meta.document_id)
        await self.authorize(who, Action.PUT, world, meta.document_id, existing)
        documents.check_size(len(content), self.max_bytes)
        content_type = documents.content_type_of(content[:16])
        if existing is not None:
            if existing.layout.sha256 != sealing.digest(content):
                raise Conflict(f"document {meta.document_id!r} is already stored with other bytes")
            await self.producer.send([self.events.stored(info_of(existing))])
            return info_of(existing), True
        quality = await self._in_io(assess, content, content_type)
        layout = await self._in_io(self.vault.store, world, meta.document_id, content)
        row = DocumentRow(
            world=world,
            document_id=meta.document_id,
            fse_id=meta.fse_id,
            ps_id=meta.ps_id,
            insured_organism=meta.insured_organism,
            receiving_organism=meta.receiving_organism,
            kind=meta.kind,
            channel=meta.channel,
            received_on=received_on,
            content_type=content_type,
            exploitable=quality.exploitable,
            quality_reason=quality.reason,
            layout=layout,
        )
        if not await self.documents.insert(row):
            # A concurrent put of the same id won: same bytes, same answer.
            return await self.put(who, meta, content)
        metrics.STORED.labels(row.channel).inc()
        metrics.STORED_BYTES.inc(layout.size)
        info = info_of(row)
        await self.producer.send([self.events.stored(info)])
        return info, False

    async def _readable(self, who: Habilitation, action: Action, world: str, document_id: str) -> DocumentRow:
        world = world or DEFAULT_WORLD
        row = await self.documents.get(world, document_id)
        await self.authorize(who, action, world, document_id, row)
        assert row is not None
        if row.purged_on is not None:
            raise NotFound(f"document {document_id!r} was purged on {row.purged_on} (33-month retention)")
        return row

    async def get(self, who: Habilitation, world: str, document_id: str) -> tuple[DocumentInfo, bytes]:
        row = await self._readable(who, Action.GET, world, document_id)
        try:
            content = await self._in_io(self.vault.load, row.world, document_id, row.layout)
        except DataLoss:
            metrics.DATA_LOSS.inc()
            log.error("data loss on %s/%s: not served", row.world, document_id)
            raise
        metrics.READ.inc()
        return info_of(row), content

    async def stat(self, who: Habilitation, world: str, document_id: str) -> DocumentInfo:
        world = world or DEFAULT_WORLD
        row = await self.documents.get(world, document_id)
        await self.authorize(who, Action.STAT, world, document_id, row)
        assert row is not None
        return info_of(row)

    async def verify(
        self, who: Habilitation, world: str, document_id: str
    ) -> tuple[str, int, dict[tuple[int, int], str], bool]:
        row = await self._readable(who, Action.VERIFY, world, document_id)
        inspection = await self._in_io(self.vault.inspect, row.world, document_id, row.layout)
        return inspection.health, len(inspection.good), inspection.states, inspection.seal_ok

    async def list(
        self, who: Habilitation, world: str, *, fse_id: str = "", ps_id: str = ""
    ) -> list[DocumentInfo]:
        world = world or DEFAULT_WORLD
        if bool(fse_id) == bool(ps_id):
            raise InvalidRequest("by: exactly one of fse_id or ps_id")
        rows = (
            await self.documents.by_fse(world, fse_id)
            if fse_id
            else await self.documents.by_professional(world, ps_id)
        )
        today = self._today(world)
        visible = [
            row
            for row in rows
            if decide(
                who, Action.LIST, DocumentFacts(row.ps_id, row.insured_organism, row.received_on), today
            ).granted
        ]
        target = f"fse:{fse_id}" if fse_id else f"ps:{ps_id}"
        await self.audit.record(
            AuditEntry(
                world, target, "list", who.subject, who.label, True, f"{len(visible)} of {len(rows)} visible"
            )
        )
        return [info_of(row) for row in visible]
