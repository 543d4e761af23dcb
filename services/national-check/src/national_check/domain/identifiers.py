"""Check digits of the identifiers on a sheet (python-stdnum implements both algorithms).

NIR: key = 97 - (13-digit number mod 97), Corsica's 2A / 2B read as 19 / 18.
RPPS: 11 digits, the last a Luhn check digit over the first ten.
"""

from __future__ import annotations

from functools import lru_cache

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir


@lru_cache(maxsize=131_072)
def nir_key(nir: str) -> int | None:
    """The key a 13-character NIR should carry; None when it is not a NIR at all."""
    if len(nir) != 13:
        return None
    try:
        return int(stdnum_nir.calc_check_digits(nir.upper()))
    except (ValidationError, ValueError):
        return None


def nir_key_matches(nir: str, typed_key: str) -> bool:
    expected = nir_key(nir)
    return expected is not None and len(typed_key) == 2 and typed_key.isdigit() and int(typed_key) == expected


@lru_cache(maxsize=65_536)
def rpps_valid(number: str) -> bool:
    return len(number) == 11 and number.isdigit() and luhn.is_valid(number)
