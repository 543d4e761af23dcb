"""The single-writer rule, checked before a record leaves the process.

Each registered topic has one writer (``fseflow.topics``). A producer made for a service
(``KafkaFactory(settings, client_id=<service>)``) refuses a record for a topic whose writer is
another service, naming topic, writer and caller: the broker refuses it too on Apache Kafka
(ACLs derived from the same registry, ``fseflow_tools.acl``), but a caisse topic's kind is beyond a
prefix ACL, and Tansu checks nothing. Clients that are not services (the replay, which also
closes the clock as its writer ``clock``, `fseflow clock close`, `dlq redrive`, the bench, tests)
act for an operator: they are not checked here, only by their credentials on the broker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence

from fseflow.kafka.base import OutRecord, Producer
from fseflow.topics import SERVICES, TopicNames

# Throw-away topics outside the registry (benchmark baselines, adapter tests).
SCRATCH_PREFIX = "scratch."


class NotTheWriter(PermissionError):
    """A service tried to write a topic another service owns."""


def writer_identity(client_id: str) -> str | None:
    """The registry writer a client acts as: a service's own name, else None (an operator's tool)."""
    return client_id if client_id in SERVICES else None


class WriterCheck:
    """Says whether ``caller`` may write a physical topic; remembers each topic's answer."""

    def __init__(self, caller: str, names: TopicNames) -> None:
        self.caller = caller
        self.names = names
        self._allowed: dict[str, str | None] = {}  # topic -> None (allowed) or why not

    def refusal(self, topic: str) -> str | None:
        if topic not in self._allowed:
            self._allowed[topic] = self._decide(topic)
        return self._allowed[topic]

    def _decide(self, topic: str) -> str | None:
        name = topic.removeprefix(self.names.prefix)
        if name.startswith(SCRATCH_PREFIX):
            return None
        try:
            writer = self.names.spec_of(topic).writer
        except (KeyError, ValueError):
            return f"{self.caller} may not write {topic}: the topic is not in the registry (fseflow.topics)"
        if writer != self.caller:
            return f"{self.caller} may not write {topic}: its single writer is {writer} (fseflow.topics)"
        return None

    def check(self, records: Sequence[OutRecord]) -> None:
        for record in records:
            why = self.refusal(record.topic)
            if why is not None:
                raise NotTheWriter(why)


class OwnedTopicsProducer:
    """A service's producer: the records of a batch are checked before any is handed over."""

    def __init__(self, inner: Producer, check: WriterCheck) -> None:
        self._inner = inner
        self._check = check

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def enqueue(self, records: Sequence[OutRecord]) -> Awaitable[None]:
        self._check.check(records)
        return await self._inner.enqueue(records)

    async def send(self, records: Sequence[OutRecord]) -> None:
        self._check.check(records)
        await self._inner.send(records)

    async def partition_count(self, topic: str) -> int:
        return await self._inner.partition_count(topic)
