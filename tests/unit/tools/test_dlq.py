"""Dead letters as an operator sees them: summaries, what is shown, which letters a redrive takes
and the records it publishes (the broker side is in tests/integration/test_dead_letter_operations.py)."""

from __future__ import annotations

import pytest

from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from fseflow.contracts.platform.v1.dead_letter_pb2 import DeadLetter, RecordHeader
from fseflow.topics import TopicNames
from fseflow_tools import dlq

NAMES = TopicNames("")
GIRONDE = FseClassified(world="w", fse_id="f-1", ps_organism="Gironde").SerializeToString()


def stored(
    partition: int,
    offset: int,
    *,
    letter_id: str | None = None,
    source: str = "cti.fse-classified",
    source_offset: int = 7,
    error_type: str = "MalformedEvent",
    value: bytes = GIRONDE,
    headers: tuple[tuple[str, bytes], ...] = (("ce_type", b"fseflow.cti.v1.FseClassified"),),
    failed_at: str = "2026-12-03T10:00:00+00:00",
) -> dlq.StoredLetter:
    letter = DeadLetter(
        service="pointage",
        source_topic=source,
        source_partition=3,
        source_offset=source_offset,
        key=b"w/f-1",
        value=value,
        headers=[RecordHeader(key=k, value=v) for k, v in headers],
        error_type=error_type,
        error="ps_organism: 'Gironde' is not RR-CCC",
        event_id="5c548c39-e6cf-4328-9550-e8bcfe8b5903",
        failed_at=failed_at,
    )
    ident = letter_id or f"id-{partition}-{offset}"
    return dlq.StoredLetter("dlq.pointage", partition, offset, ident, letter)


def scan(*letters: dlq.StoredLetter) -> dlq.Scan:
    return dlq.Scan("pointage", "dlq.pointage", list(letters))


def test_the_summary_counts_each_failed_record_once_by_topic_and_error() -> None:
    summary = dlq.summary(
        scan(
            stored(0, 0, letter_id="a", failed_at="2026-12-03T10:00:00+00:00"),
            stored(0, 1, letter_id="a", failed_at="2026-12-03T10:00:05+00:00"),  # replayed batch
            stored(
                1,
                0,
                letter_id="b",
                source="scor.document-stored",
                error_type="DecodeError",
                failed_at="2026-12-04T08:00:00+00:00",
            ),
            stored(0, 2, letter_id="c", headers=((dlq.REDRIVE_HEADER, b"dlq.pointage[0]@0"),)),
        )
    )
    assert summary["letters"] == 3
    assert summary["repeated"] == 1
    assert summary["by_source_topic"] == {"cti.fse-classified": 2, "scor.document-stored": 1}
    assert summary["by_error_type"] == {"MalformedEvent": 2, "DecodeError": 1}
    assert summary["oldest_failed_at"] == "2026-12-03T10:00:00+00:00"
    assert summary["newest_failed_at"] == "2026-12-04T08:00:00+00:00"
    assert summary["failed_again_after_redrive"] == 1


def test_a_value_that_decodes_is_shown_as_its_message() -> None:
    letter = stored(2, 5)
    described = dlq.describe(letter, NAMES)
    assert described["value"]["type"] == "fseflow.cti.v1.FseClassified"
    assert described["value"]["message"]["ps_organism"] == "Gironde"
    assert described["source"] == {"topic": "cti.fse-classified", "partition": 3, "offset": 7}
    assert described["letter"]["partition"] == 2 and described["letter"]["offset"] == 5
    text = "\n".join(dlq.render(letter, NAMES))
    assert 'ps_organism: "Gironde"' in text
    assert "cti.fse-classified[3]@7" in text and "letter 2@5" in text


def test_a_value_that_does_not_decode_is_shown_as_its_size_and_hex() -> None:
    letter = stored(0, 0, value=b"\xff\xff\xff\xff" * 40)
    described = dlq.describe(letter, NAMES)
    assert described["value"]["size"] == 160
    assert described["value"]["hex_preview"] == "ff" * dlq.HEX_PREVIEW_BYTES
    assert "not a valid fseflow.cti.v1.FseClassified" in described["value"]["not_decoded"]
    assert "160 bytes, not decoded" in "\n".join(dlq.render(letter, NAMES))


def test_a_type_the_source_topic_does_not_carry_is_not_decoded() -> None:
    letter = stored(0, 0, headers=(("ce_type", b"fseflow.nothing.v1.Nope"),))
    message, why = dlq.decode_value(letter.letter, NAMES)
    assert message is None
    assert "'fseflow.nothing.v1.Nope' is not a type of cti.fse-classified" in why


def test_control_characters_never_reach_the_terminal() -> None:
    letter = stored(0, 0, headers=(("ce_id", b"\x1b[31mred"),))
    text = "\n".join(dlq.render(letter, NAMES))
    assert "\x1b" not in text
    assert "hex 1b5b33316d726564" in text
    assert dlq.printable("a\x00b\x1b") == "a\\x00b\\x1b"


def test_letters_are_selected_by_topic_error_type_and_position() -> None:
    letters = scan(
        stored(0, 0, letter_id="a"),
        stored(1, 0, letter_id="b", source="scor.document-stored", error_type="DecodeError"),
        stored(1, 4, letter_id="c"),
    )
    by_topic = dlq.select(letters, NAMES, topic="scor.document-stored").letters
    assert [s.position for s in by_topic] == ["1@0"]
    by_error = dlq.select(letters, NAMES, error_type="MalformedEvent").letters
    assert [s.position for s in by_error] == ["0@0", "1@4"]
    assert [s.position for s in dlq.select(letters, NAMES, positions=["1@4"]).letters] == ["1@4"]
    assert [s.position for s in dlq.select(letters, NAMES, positions=["4"]).letters] == ["1@4"]


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ("0", "letters at 0@0, 1@0 of dlq.pointage: say which, PARTITION@OFFSET"),
        ("3@9", "no dead letter at 3@9 of dlq.pointage"),
        ("12", "no dead letter at offset 12 of dlq.pointage"),
        ("zero", "not PARTITION@OFFSET nor OFFSET"),
    ],
)
def test_a_position_that_names_no_single_letter_is_refused(position: str, message: str) -> None:
    letters = scan(stored(0, 0), stored(1, 0))
    with pytest.raises(ValueError, match="--offset") as raised:
        dlq.select(letters, NAMES, positions=[position])
    assert message in str(raised.value)


def test_letters_of_records_redriven_before_are_left_out_unless_asked_for() -> None:
    again = stored(0, 1, letter_id="again", headers=((dlq.REDRIVE_HEADER, b"dlq.pointage[0]@0"),))
    letters = scan(stored(0, 0, letter_id="first"), again)
    default = dlq.select(letters, NAMES)
    assert [s.position for s in default.letters] == ["0@0"]
    assert [s.position for s in default.skipped_redriven] == ["0@1"]
    assert [s.position for s in dlq.select(letters, NAMES, include_redriven=True).letters] == ["0@0", "0@1"]
    # Naming it is asking for it.
    assert [s.position for s in dlq.select(letters, NAMES, positions=["0@1"]).letters] == ["0@1"]


def test_a_redriven_record_is_the_original_marked_with_its_letter() -> None:
    original = (("ce_type", b"fseflow.cti.v1.FseClassified"), ("ce_id", b"5c548c39"))
    first = stored(0, 9, headers=(*original, (dlq.REDRIVE_HEADER, b"dlq.pointage[0]@2")), source_offset=8)
    second = stored(0, 3, headers=original, source_offset=2)
    records = dlq.redrive_records([first, second])
    # In source order; key, value, partition and headers as they were, one redrive mark.
    assert [r.headers for r in records] == [
        [*original, (dlq.REDRIVE_HEADER, b"dlq.pointage[0]@3")],
        [*original, (dlq.REDRIVE_HEADER, b"dlq.pointage[0]@9")],
    ]
    assert {(r.topic, r.partition, r.key, r.value) for r in records} == {
        ("cti.fse-classified", 3, b"w/f-1", GIRONDE)
    }


def test_only_inputs_of_the_service_can_be_redriven() -> None:
    assert dlq.not_redrivable(stored(0, 0), "pointage", NAMES) is None
    assert dlq.not_redrivable(stored(0, 0), "relances", NAMES) == (
        "cti.fse-classified is not an input of relances"
    )
    unknown = stored(0, 0, source="elsewhere\x1b")
    assert dlq.not_redrivable(unknown, "pointage", NAMES) == "elsewhere\\x1b is not a topic of the registry"


def test_an_unknown_service_is_named() -> None:
    with pytest.raises(ValueError, match="service 'nope' is unknown: one of ingest, national-check"):
        dlq.check_service("nope")
