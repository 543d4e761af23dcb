"""SubmitLot, the use case of the CTI front door (R1).

Validate the lot as a whole, find the professional and the CTI of its caisse, register the lot
id durably, publish every FSE and the ARL, and only then answer: a positive ARL means the FSE
are on the broker. The lot's row stays locked in its transaction until the broker acknowledged,
so a concurrent resubmission of the same id waits and is then refused as a duplicate.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from fseflow import calendar
from fseflow.business_clock import ClockFollower
from fseflow.cti.v1.ingest_pb2 import Arl, ArlError, FseReceived, SubmitLotRequest
from fseflow.kafka.base import OutRecord
from fseflow.refdata import CtiRouting, UnroutableOrganism
from fseflow.settings import DEFAULT_WORLD
from fseflow.telemetry.tracing import inject_headers
from ingest.adapters.kafka import LotPublisher
from ingest.adapters.postgres import LotStore
from ingest.domain import arl as arl_text
from ingest.domain.validation import (
    LOT_DUPLICATE,
    ORGANISM_UNROUTABLE,
    PS_UNKNOWN,
    LotProblem,
    validate_lot,
)

log = logging.getLogger(__name__)


class NoOpenDay(RuntimeError):
    """The lot names no receipt day and the world has no open business day yet."""


@dataclass
class LotReceiver:
    store: LotStore
    publisher: LotPublisher
    routing: CtiRouting
    clock: ClockFollower

    async def receipt_day(self, request: SubmitLotRequest, world: str) -> date:
        if request.received_on:
            day = calendar.parse_day(request.received_on)
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
        world = request.world or DEFAULT_WORLD
        lot = request.lot
        problems = validate_lot(request)
        malformed_day = any(p.field == "received_on" for p in problems)
        day = date.min if malformed_day else await self.receipt_day(request, world)
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
            if lot.lot_id and not malformed_day:
                inserted = await tx.record_lot(
                    world=world,
                    lot_id=lot.lot_id,
                    ps_id=lot.ps_id,
                    received_on=day,
                    positive=not problems,
                    cti=cti,
                    fse_count=len(lot.fse),
                    problems=problems,
                )
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
                issued_on="" if malformed_day else day.isoformat(),
                cti=cti,
                errors=[ArlError(code=p.code, field=p.field, message=p.message) for p in problems],
                fse_accepted=len(lot.fse) if positive else 0,
            )
            if positive:
                arl.text = arl_text.positive_text(
                    lot.lot_id, day, len(lot.fse), self.routing.centres[cti].name
                )
            else:
                arl.text = arl_text.negative_text(lot.lot_id, None if malformed_day else day, problems)
            records: list[OutRecord] = []
            if positive:
                assert professional is not None
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
            if lot.lot_id and not malformed_day:
                # A lot without id or day cannot be registered: its ARL is the gRPC answer only.
                records.append(self.publisher.arl_record(arl, trace, duplicate_attempt))
            await self.publisher.publish(records)
        log.debug("lot %s/%s: ARL %s", world, lot.lot_id, "positive" if positive else "negative")
        return arl
