"""What Kafka transactions would cost the pôle's and the relances' publication, against the outbox's
idempotent producer (docs/decisions.md D57): ``python -m fseflow_tools.bench_transactions`` on a stack
running Apache Kafka (`eval "$(fseflow env)"` first, or FSEFLOW_HOME of a running stack).

Two shapes, same records (200 bytes, a caisse topic's size), same producer settings otherwise:
- a day close: 20,000 records published at once (one transaction, or one idempotent batch);
- the intake: 200 batches of 50 records, one transaction each (consume-transform-produce commits
  a transaction per consumed batch), against 200 idempotent batches each awaited.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from fseflow.kafka.factory import KafkaFactory
from fseflow_tools.endpoints import from_environment
from fseflow_tools.stack import Stack

PAYLOAD = os.urandom(200)


def _timed_batches(producer: Producer, topic: str, batches: int, size: int, transactional: bool) -> float:
    started = time.perf_counter()
    for batch in range(batches):
        if transactional:
            producer.begin_transaction()
        for i in range(size):
            producer.produce(topic, PAYLOAD, f"{batch}-{i}".encode())
            producer.poll(0)
        if transactional:
            producer.commit_transaction(30)
        else:
            producer.flush(30)
    return time.perf_counter() - started


def measure(config: dict[str, Any]) -> dict[str, float]:
    topic = f"scratch.transactions-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, 1, -1)])[topic].result()
    common = {**config, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    idempotent = Producer(common)
    transactional = Producer({**common, "transactional.id": f"bench-{uuid.uuid4().hex[:8]}"})
    started = time.perf_counter()
    transactional.init_transactions(30)
    init_s = time.perf_counter() - started
    _timed_batches(idempotent, topic, 5, 100, transactional=False)  # warm both up
    _timed_batches(transactional, topic, 5, 100, transactional=True)
    figures = {
        "init_transactions_s": init_s,
        "day_close_20000_idempotent_s": _timed_batches(idempotent, topic, 1, 20_000, transactional=False),
        "day_close_20000_transaction_s": _timed_batches(transactional, topic, 1, 20_000, transactional=True),
        "intake_200x50_idempotent_s": _timed_batches(idempotent, topic, 200, 50, transactional=False),
        "intake_200x50_transactions_s": _timed_batches(transactional, topic, 200, 50, transactional=True),
    }
    admin.delete_topics([topic])
    return {k: round(v, 4) for k, v in figures.items()}


def main() -> None:
    system = from_environment(os.environ, Stack())
    if system is None:
        sys.exit("no running stack (fseflow up --broker kafka), nor KAFKA_BOOTSTRAP_SERVERS")
    config = KafkaFactory(system.kafka, "fseflow-bench-transactions").confluent_config()
    config.pop("client.id", None)
    runs = [measure(config) for _ in range(3)]
    sys.stdout.write(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
