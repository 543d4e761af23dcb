"""The Kafka adapter: one interface, two clients behind it (librdkafka and aiokafka)."""

from fseflow.kafka.base import (
    Consumer,
    DeliveryFailed,
    InRecord,
    OutRecord,
    Producer,
    TopicPartition,
    next_offsets,
)
from fseflow.kafka.factory import KafkaFactory

__all__ = [
    "Consumer",
    "DeliveryFailed",
    "InRecord",
    "KafkaFactory",
    "OutRecord",
    "Producer",
    "TopicPartition",
    "next_offsets",
]
