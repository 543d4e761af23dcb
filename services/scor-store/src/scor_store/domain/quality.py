"""R17: is a scanned document exploitable? It opens, has pages, and its images are at least
150 dpi (lighting and cut-off are what technicians look at; resolution is what a machine can)."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from fseflow.vocabulary.documents import PDF

MIN_DPI = 150
POINTS_PER_INCH = 72

# pypdf reports recoverable oddities of real-world PDFs as warnings in its logger.
logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Assessment:
    exploitable: bool
    reason: str = ""


def assess(content: bytes, content_type: str) -> Assessment:
    if content_type == PDF:
        return _assess_pdf(content)
    return _assess_image(content)


def _assess_pdf(content: bytes) -> Assessment:
    try:
        reader = PdfReader(io.BytesIO(content))
        pages = list(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        return Assessment(False, f"the PDF does not open ({type(exc).__name__})")
    if not pages:
        return Assessment(False, "the PDF has no page")
    for number, page in enumerate(pages, start=1):
        width_inches = float(page.mediabox.width) / POINTS_PER_INCH
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        if not xobjects or width_inches <= 0:
            continue
        for name in xobjects.get_object():
            xobject = xobjects.get_object()[name].get_object()
            if xobject.get("/Subtype") != "/Image":
                continue
            dpi = int(xobject.get("/Width", 0)) / width_inches
            if dpi < MIN_DPI:
                return Assessment(False, f"page {number}: image at {dpi:.0f} dpi, under {MIN_DPI}")
    return Assessment(True)


def _assess_image(content: bytes) -> Assessment:
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        with Image.open(io.BytesIO(content)) as image:
            dpi = image.info.get("dpi")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        return Assessment(False, f"the image does not open ({type(exc).__name__})")
    if not dpi:
        return Assessment(False, "the image records no resolution")
    lowest = min(float(dpi[0]), float(dpi[1]))
    if lowest < MIN_DPI:
        return Assessment(False, f"image at {lowest:.0f} dpi, under {MIN_DPI}")
    return Assessment(True)
