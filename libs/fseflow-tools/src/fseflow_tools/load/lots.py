"""Contract-valid lots for a load run, built from the demo generator's world.

The world (professionals, patients with rights, prescribers, organisms by the seeds' shares) and
one business day of lots come from ``fseflow_tools.demo.generate``: its sheets pass the contract
and carry its realistic mix of modes, acts and injected reasons. A load run sends them again and
again under fresh ids. Lot k is template ``k mod T`` sent for the ``k div T``-th time, its act
and prescription dates moved to the run's business day and then ``k div T`` days back: the same
professional billing the same patient the same act on the same day would be a DUPLICATE (R23),
so each re-use is a different day of care (decisions.md D77).

Documents: the professionals who use Scor are the seeds' national 34 %; their FSE carry their
document as an attachment of the lot, except a share sent later through SubmitDocument (a
model); the others' documents go by post and are not sent.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from fseflow.codec import event_id
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitDocumentRequest, SubmitLotRequest
from fseflow_tools.demo import DemoShape, generate
from fseflow_tools.load.national import SCOR_SHARE_NATIONAL
from fseflow_tools.replay.requests import document_messages, lot_request

# A re-use goes back one day per use, at most this many (from 2026, back to 2018: every
# patient of the demo world has rights since 2015).
MAX_DAYS_BACK = 3000
LATE_DOCUMENT_SHARE = 0.05  # Scor documents sent after their lot (SubmitDocument): a model


@dataclass(frozen=True)
class WorldShape:
    """What the load world is made of; every worker builds the same one from it."""

    seed: int = 7
    professionals: int = 200
    patients: int = 20_000
    start: date = date(2026, 3, 2)
    scor_share: float = SCOR_SHARE_NATIONAL
    late_document_share: float = LATE_DOCUMENT_SHARE


@dataclass
class LoadWorld:
    document: dict[str, Any]  # a scenario document: its "world" is what the run loads
    templates: list[dict[str, Any]]  # lots of one business day
    template_day: date
    scor_users: frozenset[str]


def build_world(shape: WorldShape) -> LoadWorld:
    """The demo world of ``shape`` with the national Scor share, and its first day's lots."""
    document = generate(
        DemoShape(
            seed=shape.seed,
            start=shape.start,
            business_days=3,  # the fewest its whole-lot problems need; the first day is used
            professionals=shape.professionals,
            patients=shape.patients,
        )
    )
    rng = random.Random(shape.seed)  # noqa: S311 - a simulation, not cryptography
    for professional in document["world"]["professionals"]:
        using = rng.random() < shape.scor_share
        if not using:
            professional["scor_since"] = None
        elif professional["scor_since"] is None:
            professional["scor_since"] = (shape.start - timedelta(days=rng.randint(30, 900))).isoformat()
    known = {p["id"] for p in document["world"]["professionals"]}
    first_day = document["events"][0]["on"]
    seen: set[str] = set()
    templates = []
    for event in document["events"]:
        lot = event.get("lot")
        # Only ordinary lots: the demo's whole-lot problems (unknown professional, empty lot,
        # a lot sent twice) would make negative ARLs the load did not ask for.
        if event["on"] != first_day or lot is None or lot["ps"] not in known or not lot["fse"]:
            continue
        if lot["id"] in seen:
            continue
        seen.add(lot["id"])
        templates.append(lot)
    scor_users = frozenset(p["id"] for p in document["world"]["professionals"] if p["scor_since"])
    return LoadWorld(document, templates, date.fromisoformat(first_day), scor_users)


@dataclass
class Built:
    request: SubmitLotRequest
    fse: int
    documents: list[list[SubmitDocumentRequest]]  # each: one SubmitDocument stream


@dataclass
class _Template:
    request: SubmitLotRequest  # as built for the template's day, world and ids
    ps: str
    act_days: list[list[int]]  # per FSE, per act: the date's ordinal
    prescribed: list[int | None]  # per FSE: the prescription date's ordinal
    documents: list[dict[str, Any] | None]  # per FSE: its document if it is sent (Scor users)


@lru_cache(maxsize=65_536)
def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


class LotFactory:
    """Builds lot k by copying its template's protobuf and changing ids and dates: ~10x cheaper
    than building it from the scenario dictionaries (the generator must not be the bottleneck)."""

    def __init__(self, world: LoadWorld, world_id: str, run_tag: str, shape: WorldShape) -> None:
        self.world = world
        self.world_id = world_id
        self.run_tag = run_tag
        self.late_share = shape.late_document_share
        self._templates = [self._template(lot) for lot in world.templates]

    def _template(self, lot: dict[str, Any]) -> _Template:
        scor = lot["ps"] in self.world.scor_users
        sheets = []
        documents: list[dict[str, Any] | None] = []
        for original in lot["fse"]:
            sheet = copy.deepcopy(original)
            document = sheet.pop("document", None)
            # The others' documents go by post: not sent, and the FSE names none.
            if scor and isinstance(document, dict):
                sheet["document"] = document
            documents.append(sheet.get("document"))
            sheets.append(sheet)
        request = lot_request(self.world_id, {**lot, "fse": sheets}, self.world.template_day)
        return _Template(
            request,
            lot["ps"],
            [[date.fromisoformat(a["on"]).toordinal() for a in sheet["acts"]] for sheet in sheets],
            [
                date.fromisoformat(s["prescribed_on"]).toordinal() if s.get("prescribed_on") else None
                for s in sheets
            ],
            documents,
        )

    def size_of(self, index: int) -> int:
        return len(self._templates[index % len(self._templates)].act_days)

    def build(self, index: int, day: date) -> Built:
        """Lot ``index``, received on ``day``, and the SubmitDocument streams of its late documents."""
        template = self._templates[index % len(self._templates)]
        back = (index // len(self._templates)) % MAX_DAYS_BACK
        by = (day - self.world.template_day).days - back
        request = SubmitLotRequest()
        request.CopyFrom(template.request)
        request.received_on = day.isoformat()
        request.lot.lot_id = f"{self.run_tag}-lot-{index}"
        # One key per send: a retry after a lost answer gets the same ARL.
        request.request_id = event_id("load-lot", self.world_id, str(index))
        late: list[dict[str, Any]] = []
        renamed: dict[str, str] = {}
        rng = random.Random(index) if self.late_share > 0 else None  # noqa: S311 - a simulation
        for number, fse in enumerate(request.lot.fse):
            fse.fse_id = f"{self.run_tag}-{index}-{number}"
            for act, ordinal in zip(fse.acts, template.act_days[number], strict=True):
                act.performed_on = _iso(ordinal + by)
            prescribed = template.prescribed[number]
            if prescribed is not None:
                fse.prescribed_on = _iso(prescribed + by)
            document = template.documents[number]
            if document is not None:
                new_id = f"{self.run_tag}-d{index}-{number}"
                renamed[fse.document.document_id] = new_id
                fse.document.document_id = new_id
                if rng is not None and rng.random() < self.late_share:
                    late.append({**document, "id": new_id, "fse": fse.fse_id, "ps": template.ps})
        if renamed:
            later = {document["id"] for document in late}
            attachments = [a for a in request.attachments if renamed[a.document_id] not in later]
            for attachment in attachments:
                attachment.document_id = renamed[attachment.document_id]
            del request.attachments[:]
            request.attachments.extend(attachments)
        documents = [document_messages(self.world_id, document, day, None) for document in late]
        return Built(request, len(request.lot.fse), documents)
