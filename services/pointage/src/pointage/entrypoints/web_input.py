"""Every parameter the console and the API read (path, query, form, JSON) is checked here, so that
odd bytes get a 400 naming the field instead of reaching PostgreSQL (which refuses NUL) or the
templates. Query strings and forms are decoded strictly: invalid UTF-8 is refused, not replaced.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

MAX_CHARS = 1024  # ids, passwords, dates: far below; a megabyte "id" is refused, not looked up
MAX_FORM_BYTES = 64 * 1024


class BadParameter(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_text(field: str, value: str) -> str:
    """``value`` unchanged, or BadParameter: NUL, control characters, lone surrogates, too long."""
    if len(value) > MAX_CHARS:
        raise BadParameter(field, f"too long ({len(value)} characters, at most {MAX_CHARS})")
    for char in value:
        category = unicodedata.category(char)
        if char == "\x00":
            raise BadParameter(field, "contains a NUL byte")
        if category == "Cc":
            raise BadParameter(field, f"contains the control character U+{ord(char):04X}")
        if category == "Cs":
            raise BadParameter(field, "is not valid Unicode (a lone surrogate)")
    return value


def _decode(field: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadParameter(field, "is not valid UTF-8") from None


def decode_pairs(raw: bytes, what: str) -> dict[str, str]:
    """``a=1&b=%C3%A9`` (a query string or an urlencoded form), every name and value checked."""
    pairs: dict[str, str] = {}
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        raw_name, _, raw_value = chunk.partition(b"=")
        name = check_text(what, _decode(what, unquote_to_bytes(raw_name.replace(b"+", b" "))))
        value = _decode(name, unquote_to_bytes(raw_value.replace(b"+", b" ")))
        pairs.setdefault(name, check_text(name, value))
    return pairs


def check_path(raw_path: str, parameters: Mapping[str, str] | None = None) -> None:
    """The path as sent (percent-encoded). aiohttp leaves invalid UTF-8 as ``%FF`` in it and in
    the path's ``parameters`` (as routed): the one holding it is named, else "path"."""
    try:
        check_text("path", _decode("path", unquote_to_bytes(raw_path.partition("?")[0])))
    except BadParameter as exc:
        for field, value in (parameters or {}).items():
            try:
                _decode(field, unquote_to_bytes(value))
            except BadParameter:
                raise BadParameter(field, exc.reason) from None
        raise


def check_json(value: Any, field: str = "body") -> None:
    """Every string of a JSON document (keys included), named by its path (``fse``, ``a.b[2]``)."""
    if isinstance(value, str):
        check_text(field, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(field, key)
            check_json(item, key if field == "body" else f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{field}[{index}]")
