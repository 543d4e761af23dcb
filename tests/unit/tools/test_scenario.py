"""Scenario files: every structural problem with its JSON path; parsing; results shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fseflow.contracts.cti.v1.classification_pb2 import (
    CLASSIFICATION_ACCORD,
    CLASSIFICATION_REJET,
    REASON_NIR_KEY,
    FseClassified,
)
from fseflow.contracts.cti.v1.ingest_pb2 import Arl, ArlError, ArlIssued
from fseflow_tools.cli.main import app
from fseflow_tools.demo import DemoShape, generate
from fseflow_tools.replay import results
from fseflow_tools.replay.requests import coefficient_text, fse_message
from fseflow_tools.replay.scenario import InvalidScenario, parse, validate

CONTRACT_EXAMPLE: dict[str, Any] = {
    "name": "gironde-week",
    "start": "2026-03-02",
    "until": "2026-08-31",
    "world": {
        "organisms": ["01-331", "02-331"],
        "professionals": [
            {
                "id": "ps-1",
                "adeli": "331012345",
                "organism": "01-331",
                "compagnon": True,
                "scor_since": "2026-01-15",
                "transmitting_since": "2019-05-01",
                "replacing": None,
            }
        ],
        "prescribers": ["10003456786"],
        "patients": [
            {
                "nir": "2860133063082",
                "key": "17",
                "organism": "01-331",
                "rights": [{"from": "2020-01-01", "to": "2030-12-31"}],
                "ald": False,
                "signature_exempt": False,
            }
        ],
        "hospital_stays": [
            {"nir": "2860133063082", "from": "2026-03-10", "to": "2026-03-14", "known_on": "2026-09-20"}
        ],
    },
    "events": [
        {
            "on": "2026-03-02",
            "lot": {
                "id": "lot-1",
                "ps": "ps-1",
                "fse": [
                    {
                        "id": "fse-1",
                        "nir": "2860133063082",
                        "key": "17",
                        "mode": "securise",
                        "prescriber": "10003456786",
                        "prescribed_on": "2026-02-20",
                        "acts": [{"code": "AMI", "coef": 4, "on": "2026-03-01", "complements": ["F"]}],
                        "ald": False,
                        "signature_impossible": False,
                        "dsi_sent": False,
                        "suite_de_soins": False,
                        "document": {"id": "pj-1", "kind": "prescription", "quality": "ok"},
                    }
                ],
            },
        },
        {
            "on": "2026-03-20",
            "document": {"id": "pj-2", "ps": "ps-1", "fse": "fse-1", "kind": "fsp", "quality": "unreadable"},
        },
        {"on": "2026-03-03", "decision": {"fse": "fse-1", "outcome": "accord", "technician": "t-33-01"}},
        {
            "on": "2026-03-09",
            "correction": {"replaces": "fse-1", "lot": {"id": "lot-9", "ps": "ps-1", "fse": []}},
        },
    ],
}


def test_the_contract_example_is_valid() -> None:
    assert validate(CONTRACT_EXAMPLE) == []
    scenario = parse(CONTRACT_EXAMPLE)
    assert [e.kind for e in scenario.events] == ["lot", "document", "decision", "correction"]
    assert [lot["id"] for _, lot in scenario.lots()] == ["lot-1", "lot-9"]


def problems_of(document: dict[str, Any]) -> list[str]:
    return [str(p) for p in validate(document)]


def test_invalid_date_is_reported_with_its_json_path() -> None:
    bad = copy.deepcopy(CONTRACT_EXAMPLE)
    bad["events"][0]["lot"]["fse"][0]["acts"][0]["on"] = "2026-02-30"
    assert problems_of(bad) == ['events[0].lot.fse[0].acts[0].on: "2026-02-30" is not a date']


def test_every_problem_is_listed() -> None:
    bad = copy.deepcopy(CONTRACT_EXAMPLE)
    bad["world"]["patients"][0]["key"] = 17
    bad["world"]["organisms"].append("331")
    bad["events"][0]["lot"]["fse"][0]["acts"][0]["coef"] = "four"
    bad["events"][0]["lot"]["fse"][0]["mode"] = "fax"
    bad["events"][2]["decision"]["fse"] = "fse-404"
    bad["events"].append({"on": "2027-01-01", "lot": {"id": "x", "ps": "ps-1", "fse": []}})
    del bad["events"][1]["document"]["kind"]
    found = problems_of(bad)
    assert found == [
        'world.organisms[2]: "331" does not match ^[0-9]{2}-[0-9]{3}$',
        "world.patients[0].key: 17 is not of type string",
        'events[0].lot.fse[0].mode: "fax" is not one of "securise", "degrade", "papier"',
        'events[0].lot.fse[0].acts[0].coef: "four" is not of type number',
        'events[1].document: "kind" is required',
        'events[4].on: "2027-01-01" is outside start..until',
        'events[2].decision.fse: "fse-404" names no FSE of the scenario',
    ]


def test_reused_fse_id_in_another_lot_is_an_error_but_a_resent_lot_is_not() -> None:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    resent = copy.deepcopy(doc["events"][0])
    doc["events"].append(resent)
    assert validate(doc) == []
    other = copy.deepcopy(resent)
    other["lot"]["id"] = "lot-2"
    doc["events"].append(other)
    assert problems_of(doc) == ['events[5].lot.fse[0].id: "fse-1" is already used at events[0].lot.fse[0]']


def test_more_than_two_decimals_and_exactly_one_kind_per_event() -> None:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    doc["events"][0]["lot"]["fse"][0]["acts"][0]["coef"] = 1.255
    doc["events"][1]["decision"] = {"fse": "fse-1", "outcome": "accord", "technician": "t"}
    assert problems_of(doc) == [
        "events[0].lot.fse[0].acts[0].coef: 1.255 has more than two decimals",
        "events[1]: must hold exactly one of lot, document, decision, correction",
    ]


def test_parse_refuses_an_invalid_document() -> None:
    with pytest.raises(InvalidScenario) as caught:
        parse({"name": "x"})
    assert {str(p) for p in caught.value.problems} >= {'(document): "start" is required'}


def test_replay_of_an_invalid_file_exits_2_before_sending_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = copy.deepcopy(CONTRACT_EXAMPLE)
    bad["events"][0]["lot"]["fse"][0]["acts"][0]["on"] = "2026-02-30"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    # No broker, no database, no stack: an attempt to connect would fail differently.
    monkeypatch.setenv("FSEFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["replay", str(path), "--out", str(tmp_path / "out.json")])
    assert result.exit_code == 2
    assert 'events[0].lot.fse[0].acts[0].on: "2026-02-30" is not a date' in result.output
    assert not (tmp_path / "out.json").exists()
    assert not (tmp_path / "home").exists()


def test_not_json_is_an_invalid_scenario(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    result = CliRunner().invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 2
    assert "not JSON" in result.output


def test_coefficients_travel_as_typed() -> None:
    assert [coefficient_text(v) for v in (4, 4.0, 1.5, 1.25, 100, 0.5)] == [
        "4",
        "4",
        "1.5",
        "1.25",
        "100",
        "0.5",
    ]
    sheet = CONTRACT_EXAMPLE["events"][0]["lot"]["fse"][0]
    message = fse_message(sheet)
    assert message.acts[0].coefficient == "4"
    assert message.document.document_id == "pj-1"


def test_results_follow_the_contract() -> None:
    scenario = parse(CONTRACT_EXAMPLE)
    (_, lot1), (_, lot9) = list(scenario.lots())
    first = results.Submission(
        scenario.events[0], lot1, Arl(lot_id="lot-1", positive=True, issued_on="2026-03-02", cti=3)
    )
    refused = Arl(
        lot_id="lot-9",
        positive=False,
        issued_on="2026-03-09",
        errors=[ArlError(code="LOT_EMPTY", field="fse")],
    )
    second = results.Submission(scenario.events[3], lot9, refused)
    verdict = FseClassified(
        fse_id="fse-1", lot_id="lot-1", classification=CLASSIFICATION_ACCORD, amount_cents=1236, cti=3
    )
    notices = [
        ArlIssued(arl=Arl(lot_id="lot-1", ps_id="ps-1", positive=True, issued_on="2026-03-02", text="ARL"))
    ]
    out = results.build(scenario, [first, second], [verdict], notices)
    assert out["lots"]["lot-1"] == {"arl": "positive", "arl_on": "2026-03-02", "cti": 3, "errors": []}
    assert out["lots"]["lot-9"]["errors"][0]["code"] == "LOT_EMPTY"
    entry = out["fse"]["fse-1"]
    assert (entry["classification"], entry["status"], entry["amount"], entry["reasons"]) == (
        "accord",
        "validated",
        12.36,
        [],
    )
    assert out["notices"] == [
        {"to": "ps-1", "kind": "arl", "on": "2026-03-02", "fse": None, "lot": "lot-1", "text": "ARL"}
    ]
    assert out["totals"] == {
        "fse": 1,
        "accord": 1,
        "rejet": 0,
        "litigieuse": 0,
        "lot_refused": 0,
        "paid": 0.0,
        "recovered": 0.0,
        "cost_caisse": 0.27,
    }
    json.dumps(out)  # serialisable as is


def test_refused_and_unanswered_fse_statuses() -> None:
    scenario = parse(CONTRACT_EXAMPLE)
    (_, lot1), _ = list(scenario.lots())
    refused = results.Submission(scenario.events[0], lot1, Arl(lot_id="lot-1", positive=False))
    assert results.build(scenario, [refused], [], [])["fse"]["fse-1"]["status"] == "lot_refused"
    accepted = results.Submission(scenario.events[0], lot1, Arl(lot_id="lot-1", positive=True))
    lost = results.build(scenario, [accepted], [], [])
    assert lost["fse"]["fse-1"]["status"] == "lost" and lost["lost"] == ["fse-1"]
    rejected = FseClassified(
        fse_id="fse-1", lot_id="lot-1", classification=CLASSIFICATION_REJET, reasons=[REASON_NIR_KEY]
    )
    assert results.build(scenario, [accepted], [rejected], [])["fse"]["fse-1"]["reasons"] == ["NIR_KEY"]


def test_demo_world_is_seeded_valid_and_carries_every_reason_kind() -> None:
    shape = DemoShape(seed=3, business_days=3, professionals=12, patients=300)
    first, second = generate(shape), generate(shape)
    assert first == second
    assert validate(first) == []
    assert {o[:2] for o in first["world"]["organisms"]} >= {"01", "02"}  # MSA is there
    assert generate(DemoShape(seed=4, business_days=3, professionals=12, patients=300)) != first


def test_default_demo_injects_each_kind_of_fault() -> None:
    document = generate()
    sheets = [f for e in document["events"] if "lot" in e for f in e["lot"]["fse"]]
    acts = [a for f in sheets for a in f["acts"]]
    assert any(a["code"] == "AMY" for a in acts)  # ACT_CODE_UNKNOWN
    assert any(a["code"] == "AMI" and a["coef"] == 7 for a in acts)  # COEF_INVALID
    assert any(f["mode"] == "papier" and len(f["acts"]) > 6 for f in sheets)  # TOO_MANY_LINES
    assert any(sum(a["code"] == "AIS" and a["coef"] == 3 for a in f["acts"]) == 5 for f in sheets)
    assert any(f["prescriber"] is None and any(a["code"] == "DI" for a in f["acts"]) for f in sheets)
    lots = [e["lot"] for e in document["events"] if "lot" in e]
    assert any(not lot["fse"] for lot in lots)  # LOT_EMPTY
    assert any(lot["ps"] == "ps-unknown" for lot in lots)  # PS_UNKNOWN
    assert len({lot["id"] for lot in lots}) == len(lots) - 1  # one lot id sent twice


def test_lots_over_ingests_limits_are_refused_at_their_json_path() -> None:
    """What ingest would refuse with INVALID_ARGUMENT (no ARL: the replay could not go on) is a
    file problem, found by ingest's own check on the request the replay would send (D88)."""
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    sheet = doc["events"][0]["lot"]["fse"][0]
    sheet["nir"] = "2" * 65
    sheet["acts"][0]["code"] = "AMI\n"
    sheet["acts"][0]["complements"] = ["F", "N", "NP", "F"]
    sheet["document"]["id"] = "pj\x00"
    doc["events"][0]["lot"]["id"] = "lot\u200b1"
    corrected = copy.deepcopy(sheet) | {"id": "fse-2", "nir": "2860133063082"}
    doc["events"][3]["correction"]["lot"]["fse"] = [corrected]
    corrected["acts"] = [{"code": "AMI", "coef": 4, "on": "2026-03-01"}] * 1000
    found = [p.split(": over ingest")[0] for p in problems_of(doc)]
    assert found == [
        "events[0].lot.fse[0].acts[0].complements: 4 complements, at most 3",
        "events[3].correction.lot.fse[0].acts: 1000 act lines, at most 999",
    ]
    doc["events"][0]["lot"]["fse"][0]["acts"][0]["complements"] = ["F"]
    corrected["acts"] = corrected["acts"][:999]
    found = [p.split(": over ingest")[0] for p in problems_of(doc)]
    assert found == [
        "events[0].lot.id: holds U+200B, a control or invisible character",
        "events[0].lot.fse[0].nir: 65 characters, at most 64",
        "events[0].lot.fse[0].acts[0].code: holds U+000A, a control or invisible character",
        "events[0].lot.fse[0].document.id: holds U+0000, a control or invisible character",
        "events[3].correction.lot.fse[0].document.id: holds U+0000, a control or invisible character",
    ]
    assert all(p.endswith("the lot would be refused (services/ingest/README.md)") for p in problems_of(doc))


def test_a_correction_naming_an_over_long_fse_id_is_refused_where_the_file_names_it() -> None:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    long_id = "f" * 65
    doc["events"][0]["lot"]["fse"][0]["id"] = long_id
    doc["events"][1]["document"]["fse"] = long_id
    doc["events"][2]["decision"]["fse"] = long_id
    doc["events"][3]["correction"] = {
        "replaces": long_id,
        "lot": {"id": "lot-9", "ps": "ps-1", "fse": [CONTRACT_EXAMPLE["events"][0]["lot"]["fse"][0]]},
    }
    found = [p.split(": over ingest")[0] for p in problems_of(doc)]
    assert found == [
        "events[0].lot.fse[0].id: 65 characters, at most 64",
        "events[3].correction.replaces: 65 characters, at most 64",
    ]


def test_scenario_validate_exits_2_on_a_lot_ingest_would_refuse(tmp_path: Path) -> None:
    doc = copy.deepcopy(CONTRACT_EXAMPLE)
    doc["events"][0]["lot"]["fse"][0]["acts"] *= 1000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 2
    assert "events[0].lot.fse[0].acts: 1000 act lines, at most 999" in result.output
    doc["events"][0]["lot"]["fse"][0]["acts"] = doc["events"][0]["lot"]["fse"][0]["acts"][:999]
    path.write_text(json.dumps(doc))
    assert CliRunner().invoke(app, ["scenario", "validate", str(path)]).exit_code == 0
