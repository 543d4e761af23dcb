"""The documents a replay sends: the scenario's own PDF file, or a synthetic scan.

A synthetic scan is a real one-page PDF holding a greyscale image: at 200 dpi when the scenario
says ``quality: ok``, at 72 dpi when it says ``unreadable`` (the store's quality check, which reads
the file, finds it under 150 dpi). Made once per kind and quality: the bytes do not need to differ.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

TITLES = {
    "prescription": "Ordonnance",
    "fsp": "Feuille de soins (FSP)",
    "explanation": "Absence de prescription",
}


@lru_cache(maxsize=16)
def synthetic_scan(kind: str, quality: str) -> bytes:
    dpi = 200 if quality == "ok" else 72
    image = Image.new("L", (600, 300), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 590, 290), outline=0, width=3)
    draw.text((30, 30), TITLES.get(kind, kind), fill=0)
    for line in range(6):
        draw.line((30, 80 + 30 * line, 560, 80 + 30 * line), fill=96, width=2)
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=float(dpi))
    return buffer.getvalue()


def content_of(document: dict[str, Any], base_dir: Path | None) -> bytes:
    """The bytes of a scenario document: its ``pdf`` file as is, or a synthetic scan."""
    if document.get("pdf"):
        return ((base_dir or Path(".")) / str(document["pdf"])).read_bytes()
    scan: bytes = synthetic_scan(document.get("kind", "prescription"), document.get("quality", "ok"))
    return scan
