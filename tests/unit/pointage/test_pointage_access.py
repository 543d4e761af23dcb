"""The pôle's access rules without a stack: login throttling on an injected clock, technician ids,
token digests (the pôle's and the replay's must agree), and the checks of odd input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from fseflow_tools.replay.technicians import TOKEN_PREFIX as REPLAY_PREFIX
from fseflow_tools.replay.technicians import token_digest
from pointage.domain.access import TOKEN_PREFIX, check_technician_id, locked_until, new_secret, secret_digest
from pointage.entrypoints.web_input import BadParameter, check_json, check_path, check_text, decode_pairs

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def _failures(*minutes: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_logins_open_below_the_limit_and_close_at_it() -> None:
    assert locked_until(_failures(0, 1, 2, 3), 5, WINDOW, now=T0 + timedelta(minutes=4)) is None
    failures = _failures(0, 1, 2, 3, 4)
    # Open again when the oldest of the five leaves the window: 09:00 + 15 min.
    assert locked_until(failures, 5, WINDOW, now=T0 + timedelta(minutes=4)) == T0 + WINDOW
    assert locked_until(failures, 5, WINDOW, now=T0 + WINDOW - timedelta(seconds=1)) == T0 + WINDOW
    assert locked_until(failures, 5, WINDOW, now=T0 + WINDOW) is None


def test_with_more_failures_than_the_limit_the_lock_lasts_until_enough_have_aged() -> None:
    failures = _failures(0, 1, 2, 10, 11, 12, 13)  # seven, limit five: the fifth newest is 09:02
    now = T0 + timedelta(minutes=13)
    assert locked_until(failures, 5, WINDOW, now) == T0 + timedelta(minutes=2) + WINDOW
    # Failures already out of the window do not count.
    assert locked_until(_failures(-30, -20, 1, 2, 3), 5, WINDOW, now) is None


def test_technician_ids_are_short_plain_words() -> None:
    assert check_technician_id("t-33-01") == "t-33-01"
    for bad in ("", "-t", "t 33", "t\x0033", "é", "x" * 65, "nobody/at/all"):
        with pytest.raises(ValueError, match="technician"):
            check_technician_id(bad)


def test_tokens_are_random_and_stored_as_the_same_digest_by_the_pole_and_the_replay() -> None:
    token, digest = new_secret(TOKEN_PREFIX)
    other, _ = new_secret(TOKEN_PREFIX)
    assert token.startswith("ptk_") and token != other and len(token) > 40
    assert digest == secret_digest(token) == token_digest(token)
    assert REPLAY_PREFIX == TOKEN_PREFIX


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "contains a NUL byte"),
        ("a\x07b", "control character U+0007"),
        ("a\nb", "control character U+000A"),
        ("a\ud800b", "lone surrogate"),
        ("x" * 1025, "too long"),
    ],
)
def test_odd_text_is_refused_naming_the_field(value: str, reason: str) -> None:
    with pytest.raises(BadParameter, match=re.escape(reason)) as refused:
        check_text("fse", value)
    assert refused.value.field == "fse"
    assert check_text("fse", "fse-é 1") == "fse-é 1"


def test_query_strings_and_forms_are_decoded_strictly() -> None:
    assert decode_pairs(b"world=w-1&message=d%C3%A9cid%C3%A9+ok&empty=", "query") == {
        "world": "w-1",
        "message": "décidé ok",
        "empty": "",
    }
    with pytest.raises(BadParameter, match="not valid UTF-8") as refused:
        decode_pairs(b"technician=t-1&password=%FF%FE", "form")
    assert refused.value.field == "password"
    with pytest.raises(BadParameter, match="NUL") as refused:
        decode_pairs(b"technician=t%00x", "form")
    assert refused.value.field == "technician"
    with pytest.raises(BadParameter) as refused:
        decode_pairs(b"%FF=1", "form")
    assert refused.value.field == "form"


def test_paths_and_json_documents_name_what_is_wrong() -> None:
    check_path("/api/v1/fse/w-1/f%C3%A9?x=%FF")  # the query is checked on its own
    with pytest.raises(BadParameter, match="not valid UTF-8") as refused:
        check_path("/api/v1/fse/w-1/f%FF")
    assert refused.value.field == "path"
    with pytest.raises(BadParameter) as refused:
        check_path("/api/v1/fse/w-1/f%FF", {"world": "w-1", "fse": "f%FF"})
    assert refused.value.field == "fse"
    with pytest.raises(BadParameter, match="NUL"):
        check_path("/console%00")
    with pytest.raises(BadParameter) as refused:
        check_json({"world": "w", "fse": "f\x00"})
    assert refused.value.field == "fse"
    with pytest.raises(BadParameter) as refused:
        check_json({"a": {"b": ["ok", "\ud800"]}})
    assert refused.value.field == "a.b[1]"
