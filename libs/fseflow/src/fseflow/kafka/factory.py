"""Builds producers, consumers and topics from the settings, for the chosen client."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from fseflow.kafka.aiokafka_client import AiokafkaConsumer, AiokafkaProducer
from fseflow.kafka.base import Consumer, Producer
from fseflow.kafka.confluent import ConfluentConsumer, ConfluentProducer
from fseflow.kafka.ownership import OwnedTopicsProducer, WriterCheck, writer_identity
from fseflow.settings import KafkaSettings
from fseflow.topics import TopicNames, TopicSpec

log = logging.getLogger(__name__)


class TopicSetupError(RuntimeError):
    pass


class KafkaFactory:
    def __init__(self, settings: KafkaSettings, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        self.names = TopicNames(settings.kafka_topic_prefix)

    # -- librdkafka configuration -------------------------------------------------------------
    def _common_confluent(self) -> dict[str, Any]:
        s = self.settings
        conf: dict[str, Any] = {
            "bootstrap.servers": s.kafka_bootstrap_servers,
            "client.id": self.client_id,
            "security.protocol": s.kafka_security_protocol,
        }
        if s.kafka_sasl_mechanism:
            conf["sasl.mechanisms"] = s.kafka_sasl_mechanism
            conf["sasl.username"] = s.kafka_sasl_username or ""
            conf["sasl.password"] = s.kafka_sasl_password or ""
        if s.kafka_ssl_ca_location:
            conf["ssl.ca.location"] = s.kafka_ssl_ca_location
        if s.kafka_debug:
            conf["debug"] = s.kafka_debug
        return conf

    def confluent_config(self) -> dict[str, Any]:
        """librdkafka's connection settings, for a special-purpose client (whatever KAFKA_CLIENT
        says, as for the admin client): the dead-letter readers need its cached watermarks."""
        return self._common_confluent()

    def _common_aiokafka(self) -> dict[str, Any]:
        s = self.settings
        conf: dict[str, Any] = {
            "bootstrap_servers": s.kafka_bootstrap_servers,
            "client_id": self.client_id,
            "security_protocol": s.kafka_security_protocol,
        }
        if s.kafka_sasl_mechanism:
            conf["sasl_mechanism"] = s.kafka_sasl_mechanism
            conf["sasl_plain_username"] = s.kafka_sasl_username
            conf["sasl_plain_password"] = s.kafka_sasl_password
        return conf

    def producer(self) -> Producer:
        """A producer; a service's (``client_id`` is a service) refuses records for topics
        another service writes (``fseflow.kafka.ownership``)."""
        producer = self._producer()
        writer = writer_identity(self.client_id)
        if writer is None:
            return producer
        return OwnedTopicsProducer(producer, WriterCheck(writer, self.names))

    def _producer(self) -> Producer:
        s = self.settings
        if s.kafka_client == "aiokafka":
            return AiokafkaProducer(
                {
                    **self._common_aiokafka(),
                    "acks": "all",
                    "enable_idempotence": s.kafka_idempotence,
                    "linger_ms": s.kafka_linger_ms,
                    "max_batch_size": 1_048_576,
                    "max_request_size": 2_097_152,
                }
            )
        return ConfluentProducer(
            {
                **self._common_confluent(),
                "acks": "all",
                "enable.idempotence": s.kafka_idempotence,
                "linger.ms": s.kafka_linger_ms,
                # Same key -> partition mapping as Java clients and aiokafka.
                "partitioner": "murmur2_random",
                # Without idempotence a retried request could overtake the next one and reorder
                # a partition; one request in flight keeps "received before" well defined.
                "max.in.flight.requests.per.connection": 5 if s.kafka_idempotence else 1,
                "queue.buffering.max.messages": 500_000,
            }
        )

    def consumer(
        self,
        specs: Sequence[TopicSpec],
        *,
        group_id: str | None,
        assign_all_from: str | None = None,
        fetch_max_wait_ms: int | None = None,
    ) -> Consumer:
        """A group member (``group_id``), or with ``assign_all_from`` a reader of all partitions."""
        s = self.settings
        topics = [self.names(spec) for spec in specs]
        wait = fetch_max_wait_ms if fetch_max_wait_ms is not None else s.kafka_fetch_max_wait_ms
        if s.kafka_client == "aiokafka":
            conf = {
                **self._common_aiokafka(),
                "group_id": group_id,
                "enable_auto_commit": False,
                "auto_offset_reset": "earliest",
                "fetch_max_wait_ms": wait,
                "session_timeout_ms": s.kafka_session_timeout_ms,
                "heartbeat_interval_ms": max(1000, s.kafka_session_timeout_ms // 3),
                "max_partition_fetch_bytes": 4 * 1_048_576,
            }
            return AiokafkaConsumer(conf, topics, assign_all_from=assign_all_from)
        conf = {
            **self._common_confluent(),
            # librdkafka wants a group id even for assign(); it is never committed then.
            "group.id": group_id or f"{self.client_id}-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": wait,
            "session.timeout.ms": s.kafka_session_timeout_ms,
            "heartbeat.interval.ms": max(1000, s.kafka_session_timeout_ms // 3),
            "fetch.max.bytes": 16 * 1_048_576,
        }
        return ConfluentConsumer(conf, topics, assign_all_from=assign_all_from)

    # -- topics -------------------------------------------------------------------------------
    async def ensure_topics(self, specs: Iterable[TopicSpec]) -> dict[str, int]:
        """Create the missing topics; check existing ones have the expected partition count.

        Returns physical topic name -> partition count.
        """
        return await asyncio.to_thread(self._ensure_topics, list(specs))

    def _ensure_topics(self, specs: list[TopicSpec]) -> dict[str, int]:
        """Only the missing topics are created: on Apache Kafka a service may describe the topics
        it uses but not create them (the stack creates them as the admin, D56); creating an
        existing topic without the right to create it is refused even though it exists."""
        s = self.settings
        admin = AdminClient(self._common_confluent())
        wanted = {self.names(spec): spec for spec in specs}
        existing = admin.list_topics(timeout=15.0).topics
        new_topics = [
            NewTopic(
                name,
                spec.partition_count(s.kafka_partitions),
                s.kafka_replication_factor,
                config=dict(spec.config),
            )
            for name, spec in wanted.items()
            if name not in existing or not existing[name].partitions
        ]
        created = admin.create_topics(new_topics, request_timeout=15.0).items() if new_topics else ()
        for name, future in created:
            try:
                future.result()
                log.info("topic created: %s", name)
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise TopicSetupError(f"cannot create topic {name}: {exc}") from exc
        metadata = admin.list_topics(timeout=15.0)
        # A new topic reaches every broker's metadata a moment after its creation.
        deadline = time.monotonic() + 15.0
        while new_topics and time.monotonic() < deadline:
            if all(metadata.topics.get(t.topic) and metadata.topics[t.topic].partitions for t in new_topics):
                break
            time.sleep(0.1)
            metadata = admin.list_topics(timeout=15.0)
        counts: dict[str, int] = {}
        for name, spec in wanted.items():
            topic = metadata.topics.get(name)
            if topic is None or not topic.partitions:
                raise TopicSetupError(f"topic {name} is missing after creation")
            expected = spec.partition_count(s.kafka_partitions)
            if len(topic.partitions) != expected:
                # Changing a topic's partition count moves keys between partitions and with
                # them the state of patient-level controls: refuse rather than guess.
                raise TopicSetupError(
                    f"topic {name} has {len(topic.partitions)} partitions, expected {expected}"
                )
            counts[name] = expected
        return counts
