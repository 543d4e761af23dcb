"""scor-store's rules and its vault: formats, quality, seals, erasure coding, access, lifecycle,
and the durability cases of R14 on real directories with real PDFs made here."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from fseflow.vocabulary import documents
from fseflow_tools import dev_ca
from fseflow_tools.replay.documents import synthetic_scan
from scor_store.adapters.vault import DataLoss, Support, Vault
from scor_store.domain import erasure, lifecycle, sealing
from scor_store.domain.access import Action, DocumentFacts, decide, sees_everything
from scor_store.domain.quality import assess

KEY = bytes(range(32))


def pdf(dpi: int = 200, pages: int = 1) -> bytes:
    images = [Image.new("L", (400, 200), 255 - 40 * i) for i in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return buffer.getvalue()


def image(fmt: str, dpi: int | None) -> bytes:
    buffer = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    Image.new("RGB", (300, 200), (200, 180, 160)).save(buffer, fmt, **extra)
    return buffer.getvalue()


class TestFormats:
    def test_pdf_jpeg_png_are_accepted(self) -> None:
        assert documents.content_type_of(pdf()[:16]) == documents.PDF
        assert documents.content_type_of(image("JPEG", 300)[:16]) == documents.JPEG
        assert documents.content_type_of(image("PNG", 300)[:16]) == documents.PNG

    @pytest.mark.parametrize("content", [b"GIF89a....", b"PK\x03\x04 a zip", b"<html>"])
    def test_anything_else_is_refused_with_its_reason(self, content: bytes) -> None:
        with pytest.raises(documents.RejectedDocument, match=r"format not accepted.*PDF, JPEG or PNG"):
            documents.content_type_of(content)

    def test_size_cap_and_empty(self) -> None:
        documents.check_size(10, 10)
        with pytest.raises(documents.RejectedDocument, match="11 bytes is over the 10 bytes cap"):
            documents.check_size(11, 10)
        with pytest.raises(documents.RejectedDocument, match="empty"):
            documents.check_size(0, 10)


class TestQuality:
    def test_a_200_dpi_scan_is_exploitable(self) -> None:
        assert assess(pdf(200), documents.PDF).exploitable
        assert assess(synthetic_scan("prescription", "ok"), documents.PDF).exploitable

    def test_a_low_resolution_scan_is_not(self) -> None:
        verdict = assess(pdf(72), documents.PDF)
        assert not verdict.exploitable and "72 dpi" in verdict.reason
        assert not assess(synthetic_scan("fsp", "unreadable"), documents.PDF).exploitable

    def test_a_multi_page_scan_is_judged_on_every_page(self) -> None:
        assert assess(pdf(150, pages=3), documents.PDF).exploitable

    def test_a_pdf_that_does_not_open_or_has_no_page(self) -> None:
        assert "does not open" in assess(b"%PDF-1.4 garbage", documents.PDF).reason
        from pypdf import PdfWriter

        empty = io.BytesIO()
        PdfWriter().write(empty)
        assert assess(empty.getvalue(), documents.PDF).reason == "the PDF has no page"

    @pytest.mark.parametrize(
        ("fmt", "dpi", "exploitable"), [("PNG", 300, True), ("JPEG", 150, True), ("JPEG", 96, False)]
    )
    def test_images_by_their_recorded_resolution(self, fmt: str, dpi: int, exploitable: bool) -> None:
        assert (
            assess(image(fmt, dpi), documents.JPEG if fmt == "JPEG" else documents.PNG).exploitable
            is exploitable
        )

    def test_an_image_without_resolution_is_not_exploitable(self) -> None:
        assert "no resolution" in assess(image("PNG", None), documents.PNG).reason


class TestSealAndErasure:
    def test_any_six_of_seven_pieces_rebuild_the_document(self) -> None:
        content = pdf() * 3
        encoded = erasure.encode(content)
        assert len(encoded.pieces) == 7
        for missing in range(7):
            good = {i: p for i, p in enumerate(encoded.pieces) if i != missing}
            assert erasure.decode(good, encoded.pad_len) == content

    def test_five_pieces_are_not_enough(self) -> None:
        encoded = erasure.encode(b"x" * 1000)
        with pytest.raises(erasure.NotEnoughPieces):
            erasure.decode(dict(enumerate(encoded.pieces[:5])), encoded.pad_len)

    def test_the_seal_binds_bytes_and_identity(self) -> None:
        content = b"prescription"
        sha = sealing.digest(content)
        signature = sealing.seal(KEY, "w", "pj-1", sha)
        assert sealing.seal_holds(KEY, "w", "pj-1", content, sha, signature)
        assert not sealing.seal_holds(KEY, "w", "pj-1", b"prescriptioN", sha, signature)
        assert not sealing.seal_holds(KEY, "w", "pj-2", content, sha, signature)  # moved to another id
        assert not sealing.seal_holds(bytes(32), "w", "pj-1", content, sha, signature)  # forged key


class TestVault:
    @pytest.fixture
    def vault(self, tmp_path: Path) -> Vault:
        return Vault([Support(tmp_path / "a", fsync=True), Support(tmp_path / "b", fsync=True)], KEY)

    def test_bit_exact_round_trip_of_a_real_pdf(self, vault: Vault) -> None:
        content = pdf(300, pages=2)
        layout = vault.store("w", "pj-1", content)
        assert vault.load("w", "pj-1", layout) == content
        assert vault.inspect("w", "pj-1", layout).health == "ok"

    def test_one_whole_support_gone(self, vault: Vault) -> None:
        content = pdf()
        layout = vault.store("w", "pj-1", content)
        import shutil

        shutil.rmtree(vault.supports[0].root)
        assert vault.load("w", "pj-1", layout) == content
        assert vault.inspect("w", "pj-1", layout).health == "degraded"

    @pytest.mark.parametrize("piece", range(7))
    def test_any_one_piece_deleted_on_both_supports(self, vault: Vault, piece: int) -> None:
        content = pdf()
        layout = vault.store("w", "pj-1", content)
        for support in vault.supports:
            support.piece_path("w", "pj-1", piece).unlink()
        assert vault.load("w", "pj-1", layout) == content

    @pytest.mark.parametrize("piece", [0, 3, 6])
    def test_a_flipped_byte_in_one_piece(self, vault: Vault, piece: int) -> None:
        content = pdf()
        layout = vault.store("w", "pj-1", content)
        for support in vault.supports:  # corrupt it everywhere: only the parity can save it
            path = support.piece_path("w", "pj-1", piece)
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0x01
            path.write_bytes(bytes(data))
        assert vault.load("w", "pj-1", layout) == content
        states = vault.inspect("w", "pj-1", layout).states
        assert states[(0, piece)] == states[(1, piece)] == "corrupt"

    def test_two_pieces_gone_on_both_supports_is_a_clear_data_loss(self, vault: Vault) -> None:
        layout = vault.store("w", "pj-1", pdf())
        for support in vault.supports:
            for piece in (1, 4):
                support.piece_path("w", "pj-1", piece).unlink()
        with pytest.raises(DataLoss, match="5 good distinct pieces, 6 needed"):
            vault.load("w", "pj-1", layout)
        assert vault.inspect("w", "pj-1", layout).health == "lost"

    def test_repair_restores_full_redundancy(self, vault: Vault) -> None:
        content = pdf()
        layout = vault.store("w", "pj-1", content)
        vault.supports[0].piece_path("w", "pj-1", 2).unlink()
        path = vault.supports[1].piece_path("w", "pj-1", 5)
        path.write_bytes(b"rot" + path.read_bytes()[3:])
        assert vault.inspect("w", "pj-1", layout).health == "degraded"
        assert vault.repair("w", "pj-1", layout).health == "ok"
        import shutil

        shutil.rmtree(vault.supports[1].root)  # and the repaired support alone is whole
        assert vault.load("w", "pj-1", layout) == content

    def test_bytes_that_do_not_match_the_seal_are_never_served(self, vault: Vault) -> None:
        layout = vault.store("w", "pj-1", pdf())
        forged = type(layout)(
            layout.size, sealing.digest(b"other"), layout.seal, layout.pad_len, layout.piece_digests
        )
        with pytest.raises(DataLoss, match="seal"):
            vault.load("w", "pj-1", forged)


class TestAccess:
    technician = dev_ca.Habilitation("CN=t", "technician", organism="01-331")
    professional = dev_ca.Habilitation("CN=p", "professional", ps_id="ps-1")
    ingest = dev_ca.Habilitation("CN=i", "service", service="ingest")
    pointage = dev_ca.Habilitation("CN=po", "service", service="pointage")
    document = DocumentFacts("ps-1", "01-331", date(2026, 3, 2))

    def test_a_technician_reads_documents_of_his_organisms_insured_only(self) -> None:
        assert decide(self.technician, Action.GET, self.document, None).granted
        other = DocumentFacts("ps-1", "02-331", date(2026, 3, 2))  # an MSA insured
        assert not decide(self.technician, Action.GET, other, None).granted
        assert not decide(self.technician, Action.PUT, None, None).granted

    def test_a_professional_reads_its_own_documents_for_90_days(self) -> None:
        assert decide(self.professional, Action.GET, self.document, date(2026, 5, 31)).granted
        late = decide(self.professional, Action.GET, self.document, date(2026, 6, 1))
        assert not late.granted and "90 days" in late.reason
        others = DocumentFacts("ps-2", "01-331", date(2026, 3, 2))
        assert not decide(self.professional, Action.GET, others, date(2026, 3, 3)).granted

    def test_services_get_what_their_role_needs(self) -> None:
        assert decide(self.ingest, Action.PUT, None, None).granted
        assert not decide(self.ingest, Action.GET, self.document, None).granted
        assert decide(self.pointage, Action.GET, self.document, None).granted
        assert not decide(self.pointage, Action.PUT, None, None).granted

    def test_only_entitled_services_may_learn_that_a_document_does_not_exist(self) -> None:
        assert sees_everything(self.pointage, Action.GET)
        assert not sees_everything(self.technician, Action.GET)
        assert not decide(self.technician, Action.GET, None, None).granted


class TestLifecycle:
    def test_months_clamp_at_month_end(self) -> None:
        assert lifecycle.add_months(date(2026, 5, 31), 33) == date(2029, 2, 28)
        assert lifecycle.add_months(date(2029, 2, 28), -33) == date(2026, 5, 28)

    def test_purge_after_33_months_on_a_business_day(self) -> None:
        # 2 Jan 2023 + 33 months = Thursday 2 Oct 2025 -> purged Friday 3 Oct.
        assert lifecycle.purge_day(date(2023, 1, 2)) == date(2025, 10, 3)

    def test_aid_day_is_scor_since_plus_90_on_a_business_day(self) -> None:
        assert lifecycle.aid_day(date(2026, 1, 15)) == date(2026, 4, 15)
        assert lifecycle.aid_day(date(2026, 2, 14)) == date(2026, 5, 15)
        assert lifecycle.aid_day(date(2026, 2, 24)) == date(2026, 5, 26)  # Whit Monday 25 May

    @pytest.mark.parametrize(
        ("exploitable", "documents", "granted"),
        [(100, 100, True), (999, 1000, True), (99, 100, False), (0, 0, False), (1, 1, True)],
    )
    def test_aid_needs_more_than_99_percent(self, exploitable: int, documents: int, granted: bool) -> None:
        assert lifecycle.aid_granted(exploitable, documents) is granted


def test_certificates_carry_the_habilitation(tmp_path: Path) -> None:
    ca = dev_ca.development_set(tmp_path)
    issued = dev_ca.issue(ca, tmp_path, "tech", role="technician", organism="01-331")
    habilitation = dev_ca.habilitation_of(issued.cert.read_bytes())
    assert (habilitation.role, habilitation.organism, habilitation.label) == (
        "technician",
        "01-331",
        "technician:01-331",
    )
    assert dev_ca.habilitation_of((tmp_path / "ingest.crt").read_bytes()).service == "ingest"
    with pytest.raises(dev_ca.CertificateError):
        dev_ca.issue(ca, tmp_path, "x", role="admin")
    with pytest.raises(dev_ca.CertificateError, match="no habilitation"):
        dev_ca.habilitation_of(ca.cert.read_bytes())


@pytest.mark.parametrize(
    ("habilitation", "reason"),
    [
        ({"role": "technician", "organism": "1-331"}, "is not RR-CCC"),
        ({"role": "professional", "ps_id": "../x"}, "is not a professional id"),
        ({"role": "professional", "ps_id": "bad id!"}, "is not a professional id"),
        ({"role": "professional", "ps_id": "p" * 65}, "is not a professional id"),
    ],
)
def test_a_certificate_is_not_issued_for_an_id_that_cannot_be_one(
    tmp_path: Path, habilitation: dict[str, str], reason: str
) -> None:
    """A field test issued a technician certificate for organism "1-331" and met a traceback for
    "--professional ../x" (the id names the file)."""
    ca = dev_ca.development_set(tmp_path)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(dev_ca.CertificateError, match=reason):
        dev_ca.issue(ca, tmp_path, "x", **habilitation)  # type: ignore[arg-type]
    assert sorted(tmp_path.iterdir()) == before
