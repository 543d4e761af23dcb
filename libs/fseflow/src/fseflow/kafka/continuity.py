"""Every offset of a partition, in order: a consumer that sees an offset jump fetches again.

Our topics have contiguous offsets (no compaction, no transaction markers), so a record whose
offset is past the next one expected means records were skipped. Tansu (the embedded broker,
memory storage, v0.6.0-510f3e2) does skip them: a produce advances the partition's high-water
mark before it stores the batch, so a fetch that runs between two concurrent produces to one
partition finds the later batch stored and the earlier one not yet, returns the later one, and
the consumer moves past the earlier batch for good — while a reader starting later sees both.
That is how a DayMark written by one national-check replica while the other wrote to the same
partition never reached the pôle, and a business day never closed (docs/decisions.md D48).

The remedy is the consumer's: on a gap, drop what follows in that partition and fetch again
from the first missing offset. A gap that is still there after ``max_refetches`` fetches is a
real one (a broker that compacts or has transaction markers) and is accepted, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from fseflow.kafka.base import InRecord, TopicPartition
from fseflow.telemetry.metrics import OFFSET_GAPS

log = logging.getLogger(__name__)


@dataclass
class Checked:
    records: list[InRecord] = field(default_factory=list)
    # partition -> offset to fetch again from
    refetch: dict[TopicPartition, int] = field(default_factory=dict)


class OffsetContinuity:
    def __init__(self, client_id: str, max_refetches: int = 10) -> None:
        self.client_id = client_id
        self.max_refetches = max_refetches
        self._expected: dict[TopicPartition, int] = {}
        self._refetches: dict[tuple[TopicPartition, int], int] = {}

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions (re)assigned or revoked: their position comes from the group again."""
        for tp in partitions:
            self._expected.pop(tp, None)

    def expect(self, tp: TopicPartition, offset: int) -> None:
        """The next offset of ``tp`` is known (a committed offset, a seek)."""
        self._expected[tp] = offset

    def check(self, records: list[InRecord]) -> Checked:
        checked = Checked()
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            if tp in checked.refetch:
                continue  # after a gap in this poll: fetched again
            expected = self._expected.get(tp)
            if expected is not None and record.offset < expected:
                continue  # delivered before a refetch
            if expected is not None and record.offset > expected:
                tries = self._refetches.get((tp, expected), 0)
                if tries < self.max_refetches:
                    self._refetches[(tp, expected)] = tries + 1
                    OFFSET_GAPS.labels(self.client_id, tp.topic).inc()
                    log.warning(
                        "%s[%d]: offsets %d..%d were skipped by the broker's answer; fetching again",
                        tp.topic,
                        tp.partition,
                        expected,
                        record.offset - 1,
                    )
                    checked.refetch[tp] = expected
                    continue
                log.warning(
                    "%s[%d]: offsets %d..%d still missing after %d fetches: a real gap, going on",
                    tp.topic,
                    tp.partition,
                    expected,
                    record.offset - 1,
                    tries,
                )
            self._refetches.pop((tp, expected if expected is not None else -1), None)
            self._expected[tp] = record.offset + 1
            checked.records.append(record)
        return checked
