"""The matching path as a faust agent, to compare with pointage's lean consumer (docs/decisions.md).

``python -m fseflow_tools.services.pointage.faust_probe --fse 50000`` (embedded stack running, or
KAFKA_BOOTSTRAP_SERVERS set): produces N FseClassified-shaped and N DocumentStored-shaped records,
shuffled, to two fresh topics keyed by FSE id, then runs one faust worker whose agent reads both and keeps a
Table (in memory) of which side of each FSE it has seen; a match is counted when both are.
That is less work than pointage does (no PostgreSQL, no dates): the framework's ceiling on this
path. It prints one JSON line with the figures. faust-streaming is a development dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic


def _produce(bootstrap: str, topics: tuple[str, str], count: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(t, 8, 1) for t in topics]).values():
        future.result()
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 5,
            "enable.idempotence": False,
            "partitioner": "murmur2_random",
        }
    )
    order = [(topics[side], i) for i in range(count) for side in (0, 1)]
    random.Random(3).shuffle(order)  # noqa: S311 - load generation
    payload = os.urandom(280)
    for n, (topic, i) in enumerate(order):
        producer.produce(topic, payload, key=f"w/f-{i}".encode())
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(60)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fse", type=int, default=50_000)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ""))
    args = parser.parse_args(argv)
    if not args.bootstrap:
        from fseflow_tools.stack import Stack

        running = Stack().running()
        if running is None:
            sys.exit("set KAFKA_BOOTSTRAP_SERVERS or start the embedded stack (fseflow up)")
        args.bootstrap = running.kafka_bootstrap_servers
    run_id = uuid.uuid4().hex[:8]
    topics = (f"scratch.faust-classified-{run_id}", f"scratch.faust-stored-{run_id}")
    _produce(args.bootstrap, topics, args.fse)

    import faust  # development dependency: only this probe uses it

    app = faust.App(
        f"faust-probe-{run_id}",
        broker=f"kafka://{args.bootstrap}",
        store="memory://",
        topic_partitions=8,
        web_enabled=False,
        producer_acks=1,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(*topics, key_type=bytes, value_type=bytes, value_serializer="raw")
    seen = app.Table(f"sides-{run_id}", default=int, partitions=8)
    figures: dict[str, Any] = {"fse": args.fse, "documents": args.fse}
    progress = {"matches": 0, "first": 0.0}

    @app.agent(source)  # type: ignore[untyped-decorator]
    async def match(stream: Any) -> None:
        async for event in stream.events():
            if not progress["first"]:
                progress["first"] = time.perf_counter()
            side = 1 if event.message.topic == topics[0] else 2
            key = event.key
            sides = seen[key] | side
            seen[key] = sides
            if sides == 3:
                progress["matches"] += 1
                if progress["matches"] == args.fse:
                    elapsed = time.perf_counter() - progress["first"]
                    figures["matches_per_s"] = round(args.fse / elapsed, 1)
                    figures["records_per_s"] = round(2 * args.fse / elapsed, 1)
                    figures["seconds_from_first_record"] = round(elapsed, 2)
                    sys.stdout.write(json.dumps(figures) + "\n")
                    sys.stdout.flush()
                    os._exit(0)

    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
