"""What the samplers compute: a group's backlog and consumption from its committed offsets and
the watermarks; a process's CPU and memory from its /metrics page."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from fseflow.telemetry.metrics import CONSUMED, CONSUMER_LAG
from fseflow.topics import CLOCK, FSE_CLASSIFIED, FSE_RECEIVED, TopicSpec
from fseflow_tools.load.chain import ChainPlan, efficiency
from fseflow_tools.load.lag import PIPELINE_GROUPS, Sources, from_metrics, group_sample
from fseflow_tools.load.scrape import Scrape, TargetsError, parse_targets, process_figures, stage_figures

ROOT = Path(__file__).resolve().parents[3]


def test_backlog_is_high_water_mark_minus_committed_over_the_groups_partitions() -> None:
    highs = {"t1": {0: (0, 100), 1: (0, 50)}, "t2": {0: (10, 30)}}
    committed = {("t1", 0): 90, ("t1", 1): 50}  # t2[0] never committed: from its log start
    sample = group_sample(["t1", "t2"], highs, committed)
    assert sample.backlog == 10 + 0 + 20
    assert sample.committed == 90 + 50 + 10


def test_every_sampled_group_is_one_the_services_use() -> None:
    sources = "".join(p.read_text() for p in ROOT.glob("services/*/src/*/entrypoints/streams.py"))
    named = set(re.findall(r'group_id=f?"\{SERVICE\}(\.[a-z-]+)"', sources))
    services_with_main_group = {
        p.parts[-5]
        for p in ROOT.glob("services/*/src/*/entrypoints/streams.py")
        if "group_id=SERVICE" in p.read_text()
    }
    for spec in PIPELINE_GROUPS:
        service, dot, suffix = spec.group.partition(".")
        if dot:
            assert f".{suffix}" in named, spec.group
        else:
            assert service in services_with_main_group, spec.group


def test_cpu_and_memory_come_from_a_real_metrics_page() -> None:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    cpu, rss = process_figures(generate_latest(registry).decode())
    assert cpu is not None and cpu > 0
    assert rss is not None and rss > 10_000_000
    assert process_figures("# nothing here\n") == (None, None)


def test_stage_lag_and_consumption_come_from_the_metrics_the_stream_loop_exports() -> None:
    topic = "load-test.scrape-topic"  # a topic of its own: the registry is the process's
    CONSUMER_LAG.labels("national-check", topic, "3").set(42)
    CONSUMED.labels("national-check", topic).inc(7)
    lag, consumed = stage_figures(generate_latest(REGISTRY).decode())
    assert lag[("national-check", topic, 3)] == 42
    assert consumed[("national-check", topic)] == 7


def test_a_partition_two_processes_report_is_counted_once_and_consumption_is_summed() -> None:
    def page(lag: int, consumed: int) -> str:
        return (
            f'fseflow_consumer_lag{{service="pointage",topic="t",partition="0"}} {lag}\n'
            f'fseflow_messages_consumed_total{{service="pointage",topic="t"}} {consumed}\n'
        )

    scrape = Scrape()
    scrape.add_stage_figures(page(5, 100))  # revoked from this process: its gauge stays
    scrape.add_stage_figures(page(9, 30))
    assert scrape.lag == {("pointage", "t", 0): 9}
    assert scrape.consumed == {("pointage", "t"): 130}


def _name(spec: TopicSpec) -> str:
    return f"x.{spec.name}"


def test_groups_from_metrics_take_their_services_partitions_of_their_topics() -> None:
    lag = {
        ("pointage", _name(FSE_CLASSIFIED), 0): 10,
        ("pointage", _name(FSE_CLASSIFIED), 1): 5,
        ("pointage", _name(CLOCK), 0): 2,  # pointage.clock's, not pointage's
        ("national-check", _name(FSE_RECEIVED), 0): 7,
    }
    consumed = {("pointage", _name(FSE_CLASSIFIED)): 400.0, ("pointage", _name(CLOCK)): 3.0}
    samples = from_metrics(PIPELINE_GROUPS, _name, lag, consumed)
    assert samples["pointage"].backlog == 15 and samples["pointage"].committed == 400
    assert samples["pointage.clock"].backlog == 2 and samples["pointage.clock"].committed == 3
    assert samples["national-check"].backlog == 7 and samples["national-check"].committed == 0
    assert "relances" not in samples  # nothing reported: no figure rather than zero


def test_a_group_the_broker_never_answers_moves_to_metrics_and_one_it_answered_stays() -> None:
    sources = Sources(probes=3)
    sources.refused("pointage", "KafkaException: GROUP_AUTHORIZATION_FAILED")
    sources.refused("pointage", "KafkaException: GROUP_AUTHORIZATION_FAILED")
    assert sources.from_broker("pointage")  # two refusals may be a coordinator not found yet
    sources.refused("pointage", "KafkaException: GROUP_AUTHORIZATION_FAILED")
    assert not sources.from_broker("pointage")
    assert sources.metrics_groups == {"pointage": "KafkaException: GROUP_AUTHORIZATION_FAILED"}

    sources.answered("relances")
    for _ in range(5):
        sources.refused("relances", "KafkaException: _TIMED_OUT")
    assert sources.from_broker("relances")
    assert sources.errors == ["relances: KafkaException: _TIMED_OUT"] * 5


def test_metrics_targets_are_name_equals_url() -> None:
    assert parse_targets("ingest=http://ingest:9101/metrics, national-check=http://nc:9102/metrics") == {
        "ingest": "http://ingest:9101/metrics",
        "national-check": "http://nc:9102/metrics",
    }
    assert parse_targets("") == {}
    with pytest.raises(TargetsError, match="'ingest:9101' is not NAME="):
        parse_targets("ingest:9101")


def test_the_trivial_chain_has_the_pipelines_shape_and_its_ratio() -> None:
    plan = ChainPlan("abc123")
    topics = plan.topics()
    assert len(topics) == plan.hops == 2  # cti.fse-received, cti.fse-classified
    assert plan.pass_through_processes == 2  # national-check's processes in the embedded stack
    assert len({t.name for t in topics}) == 2 and all(
        t.name.startswith("scratch.load-chain-abc123-") for t in topics
    )
    assert plan.group(0) != plan.group(1)
    # Each pass-through process is spawned with the plan and rebuilds the same topics from it.
    rebuilt = pickle.loads(pickle.dumps(plan)).topics()
    assert [t.name for t in rebuilt] == [t.name for t in topics]
    assert efficiency(8000.0, 40000.0) == 0.2
    assert efficiency(None, 40000.0) is None
