"""NIR key (with Corsica) and RPPS check digit."""

import pytest

from national_check.domain.identifiers import nir_key, nir_key_matches, rpps_valid


def test_contract_example_nir_key_is_17() -> None:
    assert nir_key("2860133063082") == 17
    assert nir_key_matches("2860133063082", "17")


def test_key_is_97_minus_nir_mod_97() -> None:
    nir = "1850575123456"
    assert nir_key(nir) == 97 - int(nir) % 97


@pytest.mark.parametrize(
    ("corsican", "substituted"),
    [("185052A123456", "1850519123456"), ("185052B123456", "1850518123456")],
)
def test_corsica_2a_2b_read_as_19_and_18(corsican: str, substituted: str) -> None:
    assert nir_key(corsican) == 97 - int(substituted) % 97


def test_domain_facts_corsica_example() -> None:
    assert nir_key("185052A123456") == 33  # domain-facts §1.4, checked both ways there


def test_lowercase_corsica_letter_is_accepted() -> None:
    assert nir_key("185052a123456") == 33


@pytest.mark.parametrize("typed", ["18", "7", "017", "ab", ""])
def test_wrong_or_malformed_typed_key_does_not_match(typed: str) -> None:
    assert not nir_key_matches("2860133063082", typed)


def test_single_digit_key_is_typed_with_a_leading_zero() -> None:
    nir = next(f"18505751234{i:02d}" for i in range(100) if (nir_key(f"18505751234{i:02d}") or 99) < 10)
    key = nir_key(nir)
    assert key is not None
    assert nir_key_matches(nir, f"{key:02d}")


@pytest.mark.parametrize("nir", ["286013306308", "28601330630821", "28601X3063082", ""])
def test_malformed_nir_has_no_key(nir: str) -> None:
    assert nir_key(nir) is None
    assert not nir_key_matches(nir, "17")


def test_rpps_luhn() -> None:
    assert rpps_valid("10003456786")  # the contract's prescriber
    assert not rpps_valid("10003456787")
    assert not rpps_valid("1000345678")  # ten digits
    assert not rpps_valid("1000345678a")


@pytest.mark.parametrize("last", "012345789")
def test_rpps_only_one_check_digit_fits(last: str) -> None:
    assert not rpps_valid("1000345678" + last)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "nir",
    [
        _full_width("2860133063082"),  # seen by a tester: passed the key check
        "2860133063082".translate(ARABIC_INDIC),
        "286013306308" + "²",  # a superscript two: isdigit() is True
        _full_width("185052A123456"),
    ],
)
def test_nir_in_unicode_digits_has_no_key(nir: str) -> None:
    assert nir.isdigit() or "A" in nir  # what str.isdigit() would have let through
    assert nir_key(nir) is None
    assert not nir_key_matches(nir, "17")


def test_typed_key_in_unicode_digits_does_not_match() -> None:
    assert not nir_key_matches("2860133063082", _full_width("17"))
    assert not nir_key_matches("2860133063082", "17".translate(ARABIC_INDIC))


def test_corsica_letters_only_in_the_departement() -> None:
    assert nir_key("185052A123456") is not None
    assert nir_key("1A5052A123456") is None
    assert nir_key("18505AA123456") is None


def test_rpps_in_unicode_digits_is_invalid() -> None:
    assert not rpps_valid(_full_width("10003456786"))
    assert not rpps_valid("10003456786".translate(ARABIC_INDIC))
