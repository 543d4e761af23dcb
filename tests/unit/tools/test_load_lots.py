"""The load's lots: contract-valid (ingest's own validation), fresh ids at every send, a re-used
sheet moved to another day of care, documents at the national Scor share."""

from __future__ import annotations

from datetime import date

import pytest

from fseflow_tools.load.lots import LotFactory, WorldShape, build_world
from fseflow_tools.load.national import SCOR_SHARE_NATIONAL
from ingest.domain.validation import validate_attachments, validate_lot

SHAPE = WorldShape(professionals=100, patients=2000, late_document_share=0.2)
DAY = date(2026, 3, 4)


@pytest.fixture(scope="module")
def factory() -> LotFactory:
    return LotFactory(build_world(SHAPE), "load-test0001", "t1", SHAPE)


def test_the_lots_pass_ingests_validation(factory: LotFactory) -> None:
    for index in range(300):
        request = factory.build(index, DAY).request
        assert validate_lot(request) == [], index
        assert validate_attachments(request, 5_000_000) == [], index


def test_every_send_has_fresh_ids_and_its_own_request_key(factory: LotFactory) -> None:
    built = [factory.build(i, DAY) for i in range(250)]
    lot_ids = [b.request.lot.lot_id for b in built]
    fse_ids = [f.fse_id for b in built for f in b.request.lot.fse]
    documents = [a.document_id for b in built for a in b.request.attachments]
    keys = [b.request.request_id for b in built]
    assert len(set(lot_ids)) == len(lot_ids)
    assert len(set(fse_ids)) == len(fse_ids)
    assert len(set(documents)) == len(documents)
    assert len(set(keys)) == len(keys)
    assert {b.request.world for b in built} == {"load-test0001"}
    assert [factory.size_of(i) for i in range(250)] == [b.fse for b in built]


def test_a_reused_template_is_another_day_of_care(factory: LotFactory) -> None:
    templates = len(factory.world.templates)
    first, again = factory.build(3, DAY), factory.build(3 + templates, DAY)
    assert first.request.lot.ps_id == again.request.lot.ps_id
    for one, other in zip(first.request.lot.fse, again.request.lot.fse, strict=True):
        assert one.nir == other.nir
        assert [date.fromisoformat(a.performed_on) for a in one.acts] == [
            date.fromordinal(date.fromisoformat(a.performed_on).toordinal() + 1) for a in other.acts
        ]
    # Received on the run's day, acts no later than it.
    assert first.request.received_on == DAY.isoformat()
    assert all(a.performed_on <= DAY.isoformat() for f in first.request.lot.fse for a in f.acts)


def test_documents_come_at_the_national_scor_share_some_of_them_later(factory: LotFactory) -> None:
    world = factory.world
    share = len(world.scor_users) / len(world.document["world"]["professionals"])
    assert share == pytest.approx(SCOR_SHARE_NATIONAL, abs=0.1)
    attached = late = 0
    for index in range(len(world.templates)):
        built = factory.build(index, DAY)
        scor = built.request.lot.ps_id in world.scor_users
        referenced = {f.document.document_id for f in built.request.lot.fse if f.HasField("document")}
        sent_later = {stream[0].metadata.document_id for stream in built.documents}
        attachments = {a.document_id for a in built.request.attachments}
        assert bool(referenced) == scor
        assert attachments | sent_later == referenced
        assert not attachments & sent_later
        for stream in built.documents:
            assert stream[0].metadata.received_on == DAY.isoformat()
            assert len(stream) >= 2  # the metadata, then the bytes
        attached += len(attachments)
        late += len(sent_later)
    assert late / (attached + late) == pytest.approx(SHAPE.late_document_share, abs=0.08)
