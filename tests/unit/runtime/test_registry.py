"""The topic registry, the derived docs, routing, settings and reference data."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from fseflow import topics
from fseflow.settings import KafkaSettings, PostgresSettings
from fseflow.vocabulary.refdata import CtiRouting, UnroutableOrganism, _rows
from fseflow_tools.replay.scenario import schema

ROOT = Path(__file__).resolve().parents[3]


def test_topic_names_are_unique_and_each_has_one_known_writer() -> None:
    names = [t.name for t in topics.ALL_TOPICS]
    assert len(names) == len(set(names))
    for spec in topics.ALL_TOPICS:
        assert spec.writer in (*topics.SERVICES, topics.CLOCK_WRITER)


def test_data_topics_use_the_deployment_partitions_and_the_clock_one() -> None:
    assert topics.CLOCK.partitions == 1
    for spec in (topics.FSE_RECEIVED, topics.ARL_ISSUED, topics.FSE_CLASSIFIED):
        assert spec.partition_count(8) == 8
        assert spec.partition_count(32) == 32


def test_docs_topics_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "topics.md").read_text() == topics.render_markdown(), "run `make docs`"


def test_docs_schema_is_the_package_schema() -> None:
    import json

    assert json.loads((ROOT / "docs" / "scenario.schema.json").read_text()) == schema(), "run `make docs`"


def test_prefix_is_applied_to_physical_names() -> None:
    names = topics.TopicNames("caisse-test.")
    assert names(topics.CLOCK) == "caisse-test.clock.day-closed"
    assert names.spec_of("caisse-test.cti.fse-received") is topics.FSE_RECEIVED


def test_every_department_routes_to_one_of_eight_cti() -> None:
    routing = CtiRouting.from_files()
    assert sorted(routing.centres) == list(range(1, 9))
    departments = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["20", "971", "972", "973", "974", "976"]
    for department in departments:
        caisse = department if len(department) == 3 else f"{department}1"
        assert 1 <= routing.route(f"01-{caisse}") <= 8


def test_gironde_goes_to_cti_3_as_in_the_contract_example() -> None:
    routing = CtiRouting.from_files()
    assert routing.route("01-331") == routing.route("02-331") == 3
    assert routing.route("01-201") == routing.route("01-202") == 5  # Corsica


@pytest.mark.parametrize("organism", ["01331", "1-331", "01-33", "AB-331", "01-961"])
def test_malformed_or_unknown_organisms_are_refused(organism: str) -> None:
    with pytest.raises(UnroutableOrganism):
        CtiRouting.from_files().route(organism)


def test_reference_files_are_complete_and_sourced() -> None:
    acts = {r["code"]: r for r in _rows("ngap_nursing_acts.csv")}
    assert {"AMI", "AIS", "DI", "IFD", "IK", "MAU", "MCI", "BSA", "BSB", "BSC"} <= set(acts)
    assert acts["AMI"]["tariff_eur"] == "3.15" and acts["AIS"]["daily_limit_per_patient"] == "4"
    for name in ("ngap_nursing_acts.csv", "complements.csv", "regimes.csv", "caisses.csv"):
        assert all(row["source"] for row in _rows(name)), name


def test_partitions_must_be_a_multiple_of_eight() -> None:
    with pytest.raises(ValidationError, match="multiple of 8"):
        KafkaSettings(kafka_bootstrap_servers="k:9092", kafka_partitions=12)
    assert KafkaSettings(kafka_bootstrap_servers="k:9092", kafka_partitions=24).kafka_partitions == 24


def test_database_url_must_be_postgresql() -> None:
    with pytest.raises(ValidationError, match="postgresql"):
        PostgresSettings(database_url="mysql://x")
