"""Identifiers that also name things — a file, the last segment of a URN, a world, a login — so
they hold no separator, no leading dot and nothing a URN or a shell would have to escape."""

from __future__ import annotations

import re

# 1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (ingest's cap on
# ids). pointage's schema repeats it in SQL (adapters/postgres/schema.py, for TECHNICIAN_ID).
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SAFE_ID_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def is_safe_id(text: str) -> bool:
    return SAFE_ID.fullmatch(text) is not None
