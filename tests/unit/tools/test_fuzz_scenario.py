"""Fuzzing a scenario's lots: any text in any string of a lot. The file's validation never raises,
names only paths that exist in the file, and names the field it was given when that text is over
ingest's limits; a file it accepts holds only lots ingest's edge accepts (D88)."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from fseflow_tools.replay.requests import lot_request
from fseflow_tools.replay.scenario import validate
from ingest.domain.limits import MAX_ACT_TEXT_CHARS, MAX_TEXT_CHARS
from ingest.domain.request_bounds import lot_violations
from tests.fuzzing import counted, fuzz_settings
from tests.unit.tools.test_scenario import CONTRACT_EXAMPLE

# Every string of the example's first lot, with ingest's cap for it.
LOT_STRINGS = {
    "events[0].lot.id": MAX_TEXT_CHARS,
    "events[0].lot.ps": MAX_TEXT_CHARS,
    "events[0].lot.fse[0].id": MAX_TEXT_CHARS,
    "events[0].lot.fse[0].nir": MAX_TEXT_CHARS,
    "events[0].lot.fse[0].key": MAX_TEXT_CHARS,
    "events[0].lot.fse[0].prescriber": MAX_TEXT_CHARS,
    "events[0].lot.fse[0].acts[0].code": MAX_ACT_TEXT_CHARS,
    "events[0].lot.fse[0].acts[0].complements[0]": MAX_ACT_TEXT_CHARS,
    "events[0].lot.fse[0].document.id": MAX_TEXT_CHARS,
}
_STEP = re.compile(r"([A-Za-z_]+)?(?:\[(\d+)\])?")


def _node(document: Any, path: str) -> tuple[Any, str | int]:
    """The container of ``path``'s last step and that step's key (KeyError/IndexError if absent)."""
    steps: list[str | int] = []
    for part in path.split("."):
        for name, index in _STEP.findall(part):
            if name:
                steps.append(name)
            if index:
                steps.append(int(index))
    node = document
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]]  # raises when the path names nothing
    return node, steps[-1]


def _example_with(path: str, value: Any) -> dict[str, Any]:
    """The contract's example with ``value`` at ``path``."""
    document = copy.deepcopy(CONTRACT_EXAMPLE)
    parent, key = _node(document, path)
    parent[key] = value
    return document


def _exists(document: Any, path: str) -> bool:
    try:
        _node(document, path)
    except (KeyError, IndexError, TypeError):
        return path == "(document)"
    return True


texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=70),
    st.text(alphabet="AMI0123456789 \x00\n\t\u200b\u202e", max_size=20),
)


@fuzz_settings(share=0.5)
@given(st.sampled_from(sorted(LOT_STRINGS)), texts)
@counted
def test_any_text_in_a_lot_is_either_refused_at_its_path_or_accepted_by_ingest(path: str, text: str) -> None:
    document = _example_with(path, text)
    problems = validate(document)
    assert all(_exists(document, p.path) for p in problems), problems
    over = len(text) > LOT_STRINGS[path] or not text.isprintable()
    if over:
        assert path in {p.path for p in problems}, problems
    if not problems:
        for event in document["events"]:
            lot = event.get("lot") or event.get("correction", {}).get("lot")
            if lot is not None:
                assert lot_violations(lot_request("w", lot, _day(event))) == []


def _day(event: dict[str, Any]) -> Any:
    from fseflow.vocabulary.calendar import parse_day

    return parse_day(event["on"])


def _paths(node: Any, at: str = "") -> list[str]:
    """Every path of a JSON document, in the file's notation (``events[0].lot.fse[0].nir``)."""
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, f"{at}.{key}" if at else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, f"{at}[{i}]")
    return found


PATHS = sorted(_paths(CONTRACT_EXAMPLE))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@fuzz_settings(share=0.5)
@given(st.sampled_from(PATHS), json_values)
@example("world", "a results file's world id")
@example("world.patients", {"nir": 1})
@example("events[0].lot.fse", "x")
@counted
def test_any_json_value_anywhere_gets_problems_at_existing_paths_never_a_crash(path: str, value: Any) -> None:
    """A field tester's results file given as a scenario (``world`` a string) ended in a traceback."""
    document = _example_with(path, value)
    problems = validate(document)
    assert all(_exists(document, p.path) or p.path.startswith(path) for p in problems), problems
