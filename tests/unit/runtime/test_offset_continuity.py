"""A consumer that sees a partition's offsets jump fetches again from the first one missing."""

from fseflow.kafka.base import InRecord, TopicPartition
from fseflow.kafka.continuity import OffsetContinuity

TP = TopicPartition("t", 0)


def records(*offsets: int, partition: int = 0) -> list[InRecord]:
    return [InRecord("t", partition, o, None, b"", [], 0) for o in offsets]


def offsets(batch: list[InRecord]) -> list[int]:
    return [r.offset for r in batch]


def test_contiguous_offsets_pass_through() -> None:
    continuity = OffsetContinuity("c")
    assert offsets(continuity.check(records(0, 1, 2)).records) == [0, 1, 2]
    checked = continuity.check(records(3, 4))
    assert offsets(checked.records) == [3, 4] and not checked.refetch


def test_a_skipped_batch_is_fetched_again_and_what_came_twice_is_dropped() -> None:
    continuity = OffsetContinuity("c")
    continuity.check(records(0, 1, 2))
    # The broker answered with 6..7 while 3..5 were not stored yet: refetch from 3.
    checked = continuity.check(records(6, 7) + records(10, partition=1))
    assert checked.refetch == {TP: 3}
    assert offsets(checked.records) == [10]  # other partitions go on
    # The refetch brings 3..7; a late copy of 2 (delivered before the seek) is dropped.
    assert offsets(continuity.check(records(2, 3, 4, 5, 6, 7)).records) == [3, 4, 5, 6, 7]


def test_a_gap_that_stays_after_the_refetches_is_accepted() -> None:
    continuity = OffsetContinuity("c", max_refetches=2)
    continuity.check(records(0))
    assert continuity.check(records(5)).refetch == {TP: 1}
    assert continuity.check(records(5)).refetch == {TP: 1}
    checked = continuity.check(records(5, 6))
    assert offsets(checked.records) == [5, 6] and not checked.refetch


def test_a_reassigned_partition_starts_again_from_what_the_group_says() -> None:
    continuity = OffsetContinuity("c")
    continuity.check(records(0, 1, 2, 3))
    continuity.forget([TP])
    # After a rebalance the group's committed offset may be behind: nothing is dropped.
    assert offsets(continuity.check(records(1, 2)).records) == [1, 2]
