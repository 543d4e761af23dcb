"""What the samplers compute: a group's backlog and consumption from its committed offsets and
the watermarks; a process's CPU and memory from its /metrics page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from fseflow_tools.load.chain import ChainPlan, efficiency
from fseflow_tools.load.lag import PIPELINE_GROUPS, group_sample
from fseflow_tools.load.scrape import TargetsError, parse_targets, process_figures

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
    assert efficiency(8000.0, 40000.0) == 0.2
    assert efficiency(None, 40000.0) is None
