"""Backlog and consumption of every consumer group, sampled from the broker.

For each group: its committed offsets against the high-water marks of the partitions it reads.
The committed offsets are read as the integration tests read them, on Tansu and on Apache Kafka
alike: ``Consumer.committed`` of a consumer that carries the group's id and never joins it
(OffsetFetch to the group's coordinator; no JoinGroup, so the group is not disturbed). The
high-water marks come from fetch responses (``fseflow.kafka.watermarks.TopicDepth``: Tansu's
ListOffsets cannot be trusted, D47), read by consumers whose group ids are ``reader_group_id``'s,
which a client's ACLs cover. Backlog = Σ (high-water mark − committed offset); consumed = Σ
committed offsets (its rate per window is the stage's consumption).

A group whose committed offsets the broker refuses in its first ``PROBES`` samples (no Describe
on the group, an OffsetFetch the broker does not answer) is measured for the rest of the run from
the stages' own /metrics instead (``from_metrics``: ``fseflow_consumer_lag`` and
``fseflow_messages_consumed_total``), so that no series mixes the two sources.

Blocking (librdkafka): ``sample`` runs in a thread; one sample at a time, and ``close`` waits
for the one in progress.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from confluent_kafka import Consumer, KafkaException, TopicPartition

from fseflow.kafka.factory import KafkaFactory
from fseflow.kafka.watermarks import TopicDepth
from fseflow.topics import (
    CLOCK,
    DECISIONS,
    DOCUMENT_STORED,
    FSE_CLASSIFIED,
    FSE_RECEIVED,
    RECOVERY_ORDERS,
    SETTLEMENTS,
    TopicSpec,
)


@dataclass(frozen=True)
class GroupSpec:
    group: str  # the consumer group id, as the service's bootstrap names it
    topics: tuple[TopicSpec, ...]

    @property
    def service(self) -> str:
        return self.group.split(".")[0]


# Every consumer group of the pipeline (services/*/entrypoints/streams.py; a unit test checks
# each id is there). The data path first.
PIPELINE_GROUPS = (
    GroupSpec("national-check", (FSE_RECEIVED, DECISIONS)),
    GroupSpec("pointage", (FSE_CLASSIFIED, DOCUMENT_STORED, RECOVERY_ORDERS)),
    GroupSpec("relances", (SETTLEMENTS,)),
    GroupSpec("ingest.clock-relay", (CLOCK,)),
    GroupSpec("pointage.clock", (CLOCK,)),
    GroupSpec("scor-store.clock", (CLOCK,)),
)


@dataclass(frozen=True)
class GroupSample:
    committed: int  # Σ committed offsets over the group's partitions
    backlog: int  # Σ (high-water mark − committed)


def group_sample(
    topics: Iterable[str],
    highs: Mapping[str, Mapping[int, tuple[int, int]]],
    committed: Mapping[tuple[str, int], int],
) -> GroupSample:
    """One group's figures from the watermarks of its topics and its committed offsets (a
    partition it never committed counts from the partition's log start)."""
    total_committed = 0
    backlog = 0
    for topic in topics:
        for partition, (low, high) in highs.get(topic, {}).items():
            position = committed.get((topic, partition), -1)
            if position < 0:
                position = max(low, 0)
            total_committed += position
            backlog += max(0, high - position)
    return GroupSample(total_committed, backlog)


def growing(backlogs: Sequence[int | None], windows: int, *, slack: int = 0) -> bool:
    """True when the backlog rose in each of the last ``windows`` intervals by more than
    ``slack`` records (windows the sampler missed are skipped)."""
    tail = [b for b in backlogs if b is not None][-(windows + 1) :]
    if len(tail) < windows + 1:
        return False
    return all(b - a > slack for a, b in pairwise(tail))


def from_metrics(
    specs: Iterable[GroupSpec],
    names: Callable[[TopicSpec], str],
    lag: Mapping[tuple[str, str, int], int],
    consumed: Mapping[tuple[str, str], float],
) -> dict[str, GroupSample]:
    """Groups' figures from the stages' /metrics: backlog = Σ ``fseflow_consumer_lag`` over the
    partitions of the group's topics its service reports, consumed = Σ records consumed from
    them. A group none of whose partitions is reported has no figure."""
    samples = {}
    for spec in specs:
        topics = {names(t) for t in spec.topics}
        lags = [n for (service, topic, _p), n in lag.items() if service == spec.service and topic in topics]
        if not lags:
            continue
        total = sum(
            n for (service, topic), n in consumed.items() if service == spec.service and topic in topics
        )
        samples[spec.group] = GroupSample(int(total), sum(lags))
    return samples


# Consecutive failed OffsetFetches of a group never answered before it is read from /metrics.
PROBES = 3


class Sources:
    """Where each group's figures come from: the broker until it has refused ``PROBES`` times in
    a row a group it never answered, then the stages' /metrics for the rest of the run (one
    source per series). A group the broker answered once stays on the broker: a later refusal
    is a missed sample, kept in ``errors``."""

    def __init__(self, probes: int = PROBES) -> None:
        self.probes = probes
        self._answered: set[str] = set()
        self._refusals: dict[str, int] = {}
        self.metrics_groups: dict[str, str] = {}  # group -> why the broker would not answer
        self.errors: list[str] = []

    def from_broker(self, group: str) -> bool:
        return group not in self.metrics_groups

    def answered(self, group: str) -> None:
        self._answered.add(group)
        self._refusals.pop(group, None)

    def refused(self, group: str, why: str) -> None:
        if group in self._answered:
            self.errors.append(f"{group}: {why}")
            return
        self._refusals[group] = self._refusals.get(group, 0) + 1
        if self._refusals[group] >= self.probes:
            self.metrics_groups[group] = why


class LagSampler:
    def __init__(self, kafka: KafkaFactory, groups: Sequence[GroupSpec] = PIPELINE_GROUPS) -> None:
        self.groups = tuple(groups)
        self.names = kafka.names
        self._config = kafka.confluent_config()
        topics = sorted({kafka.names(spec) for g in self.groups for spec in g.topics})
        self._depths = {topic: TopicDepth(self._config, topic) for topic in topics}
        self._offsets: dict[str, Consumer] = {}  # group -> a consumer carrying its id, never joined
        self._lock = threading.Lock()
        self.sources = Sources()
        self._closed = False

    def _committed(self, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        consumer = self._offsets.get(group)
        if consumer is None:
            consumer = Consumer(
                {
                    **self._config,
                    "group.id": group,
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                }
            )
            self._offsets[group] = consumer
        # The partitions are named: a missing answer would read as a backlog of everything.
        offsets = consumer.committed([TopicPartition(t, p) for t, p in partitions], timeout=10)
        for tp in offsets:
            if tp.error is not None:
                raise KafkaException(tp.error)
        return {(tp.topic, tp.partition): tp.offset for tp in offsets}

    def sample_blocking(self) -> dict[str, GroupSample]:
        with self._lock:
            if self._closed:
                return {}  # a sample the run gave up waiting for, started after the close
            highs = {}
            for topic, depth in self._depths.items():
                marks = depth.watermarks()
                if marks is not None:
                    highs[topic] = marks
            samples = {}
            for spec in self.groups:
                if not self.sources.from_broker(spec.group):
                    continue
                topics = [self.names(t) for t in spec.topics]
                if not all(t in highs for t in topics):
                    continue  # not every partition fetched yet: no figure rather than a wrong one
                partitions = [(t, p) for t in topics for p in sorted(highs[t])]
                try:
                    committed = self._committed(spec.group, partitions)
                except KafkaException as exc:
                    self.sources.refused(spec.group, f"{type(exc).__name__}: {exc}")
                    continue  # this group has no figure in this sample
                self.sources.answered(spec.group)
                samples[spec.group] = group_sample(topics, highs, committed)
            return samples

    async def sample(self) -> dict[str, GroupSample]:
        return await asyncio.to_thread(self.sample_blocking)

    def metrics_samples(
        self, lag: Mapping[tuple[str, str, int], int], consumed: Mapping[tuple[str, str], float]
    ) -> dict[str, GroupSample]:
        """The figures of the groups measured from /metrics (``sources.metrics_groups``)."""
        specs = [spec for spec in self.groups if not self.sources.from_broker(spec.group)]
        return from_metrics(specs, self.names, lag, consumed)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for depth in self._depths.values():
                depth.close()
            for consumer in self._offsets.values():
                consumer.close()
            self._offsets.clear()
