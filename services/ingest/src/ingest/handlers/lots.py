"""The use cases of the CTI front door: SubmitLot (R1) and SubmitDocument.

SubmitLot validates the lot as a whole, finds the professional and the CTI of its caisse,
registers the lot id durably, hands the attached documents to the national document store (they
never ride on Kafka: the FSE keep only their reference), publishes every FSE and the ARL, and only
then answers: a positive ARL means the documents are stored and the FSE are on the broker. The
lot's row stays locked in its transaction until then, so a concurrent resubmission of the same id
waits and is refused as a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import date

from fseflow.business_clock import ClockFollower
from fseflow.contracts.cti.v1.ingest_pb2 import (
    Arl,
    ArlError,
    DocumentSubmission,
    FseReceived,
    SubmitDocumentResponse,
    SubmitLotRequest,
)
from fseflow.contracts.scor.v1.scor_pb2 import DocumentMetadata
from fseflow.kafka.base import OutRecord
from fseflow.settings import DEFAULT_WORLD
from fseflow.telemetry.tracing import inject_headers
from fseflow.vocabulary import calendar, documents
from fseflow.vocabulary.refdata import CtiRouting, UnroutableOrganism
from ingest.adapters.events import LotPublisher
from ingest.adapters.postgres import LotStore, ProfessionalRef
from ingest.adapters.scor_client import ScorClient
from ingest.domain import arl as arl_text
from ingest.domain.limits import MAX_RECORD_BYTES
from ingest.domain.request_bounds import Violation, describe, lot_violations, submission_violations
from ingest.domain.validation import (
    LOT_DUPLICATE,
    ORGANISM_UNROUTABLE,
    PS_UNKNOWN,
    LotProblem,
    bounded,
    is_world,
    validate_attachments,
    validate_lot,
)

log = logging.getLogger(__name__)


SERVICE = "ingest"


class NoOpenDay(RuntimeError):
    """The request names no receipt day and the world has no open business day yet."""


class InvalidSubmission(ValueError):
    """A document submission that cannot be taken: the message names the fields."""


class OutOfBounds(ValueError):
    """A request over the API's documented limits (domain/limits.py): INVALID_ARGUMENT."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(describe(violations))
        self.violations = violations


class RecordTooLarge(RuntimeError):
    """A record over the broker's limit: the request is too large to publish (RESOURCE_EXHAUSTED)."""


def check_record_sizes(records: list[OutRecord]) -> None:
    for record in records:
        headers = sum(len(name) + len(value) for name, value in record.headers or ())
        size = len(record.value) + len(record.key or b"") + headers
        if size > MAX_RECORD_BYTES:
            raise RecordTooLarge(f"a {record.topic} record of {size} bytes, over {MAX_RECORD_BYTES}")


@dataclass
class LotReceiver:
    store: LotStore
    publisher: LotPublisher
    routing: CtiRouting
    clock: ClockFollower
    scor: ScorClient
    max_document_bytes: int = documents.DEFAULT_MAX_BYTES
    put_concurrency: int = 8

    async def receipt_day(self, received_on: str, world: str) -> date:
        if received_on:
            day = calendar.parse_day(received_on)
        else:
            open_day = self.clock.open_day(world)
            start = None if open_day is not None else await self.store.world_start(world)
            day_or_none = open_day or start
            if day_or_none is None:
                raise NoOpenDay(
                    f"world {world!r}: no day closed and no start day; send received_on or close a day"
                )
            day = day_or_none
        # An action that falls on a non-business day happens on the next business day.
        return calendar.on_or_after(day)

    async def submit(self, request: SubmitLotRequest) -> Arl:
        violations = lot_violations(request)
        if violations:
            raise OutOfBounds(violations)
        world = request.world or DEFAULT_WORLD
        lot = request.lot
        problems = bounded(validate_lot(request) + validate_attachments(request, self.max_document_bytes))
        no_day = any(p.field == "received_on" for p in problems)
        day = date.min
        if not no_day:
            try:
                day = await self.receipt_day(request.received_on, world)
            except NoOpenDay:
                if not problems:
                    raise
                # Refused anyway: its negative ARL, without a day (not registered, like a bad day).
                no_day = True
        received_at_ms = int(time.time() * 1000)
        trace = inject_headers()
        async with self.store.transaction() as tx:
            professional = await tx.professional(world, lot.ps_id) if lot.ps_id else None
            cti = 0
            if lot.ps_id and professional is None:
                problems.append(LotProblem(PS_UNKNOWN, "lot.ps_id", f"{lot.ps_id!r} is not in the directory"))
            if professional is not None:
                try:
                    cti = self.routing.route(professional.organism)
                except UnroutableOrganism as exc:
                    problems.append(LotProblem(ORGANISM_UNROUTABLE, "lot.ps_id", str(exc)))
            duplicate_attempt = 0
            if lot.lot_id and not no_day:
                inserted = await tx.record_lot(
                    world=world,
                    lot_id=lot.lot_id,
                    ps_id=lot.ps_id,
                    received_on=day,
                    positive=not problems,
                    cti=cti,
                    fse_count=len(lot.fse),
                    problems=problems,
                    request_id=request.request_id,
                )
                answered = None if inserted else await tx.answer_of(world, lot.lot_id, request.request_id)
                if answered is not None:
                    log.info(
                        "lot %s/%s: a retry of request %s, answered again",
                        world,
                        lot.lot_id,
                        request.request_id,
                    )
                    return Arl.FromString(answered)
                if not inserted:
                    problems.append(
                        LotProblem(LOT_DUPLICATE, "lot.lot_id", f"lot {lot.lot_id!r} was already received")
                    )
                    duplicate_attempt = await tx.count_duplicate_attempt(world, lot.lot_id)
            positive = not problems
            arl = Arl(
                world=world,
                lot_id=lot.lot_id,
                ps_id=lot.ps_id,
                positive=positive,
                issued_on="" if no_day else day.isoformat(),
                cti=cti,
                errors=[ArlError(code=p.code, field=p.field, message=p.message) for p in problems],
                fse_accepted=len(lot.fse) if positive else 0,
            )
            if positive:
                arl.text = arl_text.positive_text(
                    lot.lot_id, day, len(lot.fse), self.routing.centres[cti].name
                )
            else:
                arl.text = arl_text.negative_text(lot.lot_id, None if no_day else day, problems)
            records: list[OutRecord] = []
            if positive:
                assert professional is not None
                organisms = await tx.patient_organisms(world, sorted({f.nir for f in lot.fse}))
                for position, fse in enumerate(lot.fse):
                    event = FseReceived(
                        world=world,
                        lot_id=lot.lot_id,
                        ps_id=lot.ps_id,
                        ps_organism=professional.organism,
                        ps_replacing=professional.replacing or "",
                        cti=cti,
                        received_on=arl.issued_on,
                        position=position,
                        received_at_ms=received_at_ms,
                        fse=fse,
                    )
                    records.append(self.publisher.fse_record(event, trace))
                check_record_sizes(records)  # before Scor stores anything
                await self._store_attachments(request, world, day, professional, organisms)
                await tx.index_fse(world, lot.lot_id, [(f.fse_id, f.nir) for f in lot.fse])
            if lot.lot_id and not no_day:
                # A lot without id or day cannot be registered: its ARL is the gRPC answer only.
                records.append(self.publisher.arl_record(arl, trace, duplicate_attempt))
                if duplicate_attempt == 0:
                    await tx.keep_answer(world, lot.lot_id, arl.SerializeToString())
            check_record_sizes(records)
            await self.publisher.publish(records)
        log.debug("lot %s/%s: ARL %s", world, lot.lot_id, "positive" if positive else "negative")
        return arl

    async def _store_attachments(
        self,
        request: SubmitLotRequest,
        world: str,
        day: date,
        professional: ProfessionalRef,
        organisms: dict[str, str],
    ) -> None:
        """Every attached document to Scor (in parallel), before any FSE is published."""
        if not request.attachments:
            return
        sheets = {f.document.document_id: f for f in request.lot.fse if f.HasField("document")}
        limit = asyncio.Semaphore(self.put_concurrency)

        async def put(document_id: str, content: bytes) -> None:
            sheet = sheets[document_id]
            metadata = DocumentMetadata(
                world=world,
                document_id=document_id,
                fse_id=sheet.fse_id,
                ps_id=professional.ps_id,
                insured_organism=organisms.get(sheet.nir, professional.organism),
                receiving_organism=professional.organism,
                kind=sheet.document.kind,
                received_on=day.isoformat(),
                channel=professional.channel_on(day),
            )
            async with limit:
                await self.scor.put(metadata, content)

        await asyncio.gather(*(put(a.document_id, a.content) for a in request.attachments))

    async def submit_document(self, submission: DocumentSubmission, content: bytes) -> SubmitDocumentResponse:
        """A document sent on its own (after, or before, its FSE): validated, then stored by Scor."""
        violations = submission_violations(submission)
        if violations:
            raise OutOfBounds(violations)
        world = submission.world or DEFAULT_WORLD
        problems = [
            f"metadata.{name}: missing"
            for name in ("document_id", "fse_id", "ps_id")
            if not getattr(submission, name)
        ]
        if submission.world and not is_world(submission.world):
            problems.append("metadata.world: letters, digits, '.', '_' or '-', 64 at most")
        if submission.kind not in documents.KINDS:
            problems.append(f"metadata.kind: {submission.kind!r} is not prescription, fsp or explanation")
        if submission.received_on:
            try:
                calendar.parse_day(submission.received_on)
            except ValueError as exc:
                problems.append(f"metadata.received_on: {exc}")
        try:
            documents.check_size(len(content), self.max_document_bytes)
            documents.content_type_of(content[:16])
        except documents.RejectedDocument as exc:
            problems.append(str(exc))
        professional = await self.store.professional(world, submission.ps_id) if submission.ps_id else None
        if submission.ps_id and professional is None:
            problems.append(f"metadata.ps_id: {submission.ps_id!r} is not in the directory")
        if problems:
            raise InvalidSubmission("; ".join(problems))
        assert professional is not None
        day = await self.receipt_day(submission.received_on, world)
        insured = await self.store.insured_organism_of_fse(world, submission.fse_id)
        info = await self.scor.put(
            DocumentMetadata(
                world=world,
                document_id=submission.document_id,
                fse_id=submission.fse_id,
                ps_id=professional.ps_id,
                # Before its FSE arrives the insured is not known yet: the receiving caisse's.
                insured_organism=insured or professional.organism,
                receiving_organism=professional.organism,
                kind=submission.kind,
                received_on=day.isoformat(),
                channel=professional.channel_on(day),
            ),
            content,
        )
        return SubmitDocumentResponse(
            document_id=submission.document_id,
            received_on=day.isoformat(),
            exploitable=info.exploitable,
            quality_reason=info.quality_reason,
        )
