"""Check digits of the identifiers on a sheet (python-stdnum implements both algorithms).

NIR: key = 97 - (13-digit number mod 97), Corsica's 2A / 2B read as 19 / 18.
RPPS: 11 digits, the last a Luhn check digit over the first ten.

Digits are ASCII digits only: str.isdigit() and int() also take full-width, Arabic-Indic and
other Unicode digits ("２８６…" would otherwise carry the key of "286…").
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir

# Sex, year, month, département (two digits, or 2A / 2B for Corsica), commune, order number.
_NIR = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AaBb])[0-9]{6}", re.ASCII)


def ascii_digits(text: str, length: int) -> bool:
    """Exactly ``length`` characters, each one of 0-9."""
    return len(text) == length and text.isascii() and text.isdigit()


@lru_cache(maxsize=131_072)
def nir_key(nir: str) -> int | None:
    """The key a 13-character NIR should carry; None when it is not a NIR at all."""
    if not _NIR.fullmatch(nir):
        return None
    try:
        return int(stdnum_nir.calc_check_digits(nir.upper()))
    except (ValidationError, ValueError):
        return None


def nir_key_matches(nir: str, typed_key: str) -> bool:
    expected = nir_key(nir)
    return expected is not None and ascii_digits(typed_key, 2) and int(typed_key) == expected


@lru_cache(maxsize=65_536)
def rpps_valid(number: str) -> bool:
    return ascii_digits(number, 11) and luhn.is_valid(number)
