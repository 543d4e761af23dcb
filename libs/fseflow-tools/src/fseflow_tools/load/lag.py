"""Backlog and consumption of every consumer group, sampled from the broker.

For each group: its committed offsets (OffsetFetch through the admin client) against the
high-water marks of the partitions it reads. The high-water marks come from fetch responses
(``fseflow.kafka.watermarks.TopicDepth``: Tansu's ListOffsets cannot be trusted, D47), read by
consumers whose group ids are ``reader_group_id``'s, which a client's ACLs cover. Backlog =
Σ (high-water mark − committed offset); consumed = Σ committed offsets (its rate per window is
the stage's consumption).

Blocking (librdkafka): ``sample`` runs in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

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


class LagSampler:
    def __init__(self, kafka: KafkaFactory, groups: Sequence[GroupSpec] = PIPELINE_GROUPS) -> None:
        self.groups = tuple(groups)
        self._names = kafka.names
        config = kafka.confluent_config()
        self._admin = AdminClient(config)
        topics = sorted({kafka.names(spec) for g in self.groups for spec in g.topics})
        self._depths = {topic: TopicDepth(config, topic) for topic in topics}

    def _committed(self, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        # The partitions are named: an OffsetFetch for "all of the group's" is not answered
        # alike by every broker, and a missing answer would read as a backlog of everything.
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p) for t, p in partitions])
        futures = self._admin.list_consumer_group_offsets([request])
        result: Any = futures[group].result(timeout=10)
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or ()}

    def sample_blocking(self) -> dict[str, GroupSample]:
        highs = {}
        for topic, depth in self._depths.items():
            marks = depth.watermarks()
            if marks is not None:
                highs[topic] = marks
        samples = {}
        for spec in self.groups:
            topics = [self._names(t) for t in spec.topics]
            if not all(t in highs for t in topics):
                continue  # not every partition fetched yet: no figure rather than a wrong one
            partitions = [(t, p) for t in topics for p in sorted(highs[t])]
            samples[spec.group] = group_sample(topics, highs, self._committed(spec.group, partitions))
        return samples

    async def sample(self) -> dict[str, GroupSample]:
        return await asyncio.to_thread(self.sample_blocking)

    def close(self) -> None:
        for depth in self._depths.values():
            depth.close()
