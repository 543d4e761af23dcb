"""Records and the two ports every service uses: a batching producer and a batch consumer."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

Headers = list[tuple[str, bytes]]


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass(slots=True)
class OutRecord:
    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers | None = None
    # None: chosen by the key's murmur2 hash, the same in both clients and in Java.
    partition: int | None = None


@dataclass(slots=True)
class InRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    timestamp_ms: int

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge every record of a batch."""


class Producer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        """Hand the records to the client; the result resolves once the broker acknowledged
        every one of them, or raises DeliveryFailed."""

    async def send(self, records: Sequence[OutRecord]) -> None:
        """Return once the broker acknowledged every record; raise DeliveryFailed otherwise."""

    async def partition_count(self, topic: str) -> int: ...


class Consumer(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def poll_batch(self, max_records: int, timeout_s: float) -> list[InRecord]: ...

    async def commit(self, offsets: Mapping[TopicPartition, int], *, asynchronous: bool = False) -> None:
        """Commit the next offset to read for each partition. ``asynchronous``: do not wait
        for the broker (a lost commit only replays records, which consumers dedupe)."""

    def assignment(self) -> frozenset[TopicPartition]: ...

    def has_joined(self) -> bool:
        """True once the group gave this member its share, even an empty one (more members than
        partitions), or once the partitions were assigned directly."""

    def high_watermark(self, tp: TopicPartition) -> int | None:
        """High-water mark from the last fetch response (ListOffsets is wrong on Tansu)."""

    def rejoining_for(self) -> float | None:
        """Seconds since the group took this member's partitions back without giving it a new
        share yet (a rebalance in progress), else None."""


def next_offsets(records: Iterable[InRecord]) -> dict[TopicPartition, int]:
    """Offsets to commit after processing ``records``: last offset + 1 per partition."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        if record.offset + 1 > offsets.get(tp, -1):
            offsets[tp] = record.offset + 1
    return offsets
