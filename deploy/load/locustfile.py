"""Locust, for teams that already use it: a gRPC SubmitLot user reporting to Locust's statistics.

This is the *closed-loop* alternative to ``fseflow load``: each Locust user sends its next lot
only once the last one was answered, so when ingest slows down the offered rate drops with it and
the latencies Locust shows are those of the calls that could be made (coordinated omission).
``fseflow load`` keeps the schedule whatever the answers (open loop) and measures every send from
its intended instant; use it for capacity and latency figures (docs/load-testing.md). Locust is
for what it is good at: a number of concurrent clients, its web UI, its distributed workers.

The lots are ``fseflow load``'s (the demo generator's world, fresh ids at every send), so the
world must be in the database first::

    export FSEFLOW_LOAD_WORLD=$(fseflow load world)          # prints the world id it loaded
    locust -f deploy/load/locustfile.py --host 127.0.0.1:50051 --headless -u 50 -r 10 -t 5m

``--host`` is ingest's gRPC address (host:port, no scheme). FSEFLOW_LOAD_SEED,
FSEFLOW_LOAD_PROFESSIONALS and FSEFLOW_LOAD_PATIENTS must match what ``fseflow load world`` was
given (the same seeded world); FSEFLOW_LOAD_DAY is the business day of receipt (default: the
world's first day).
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from datetime import date

import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import User, constant, task

from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow_tools.load.lots import LotFactory, WorldShape, build_world

# gRPC on gevent's loop instead of its own threads (Locust runs users as greenlets).
grpc_gevent.init_gevent()

SHAPE = WorldShape(
    seed=int(os.environ.get("FSEFLOW_LOAD_SEED", "7")),
    professionals=int(os.environ.get("FSEFLOW_LOAD_PROFESSIONALS", "200")),
    patients=int(os.environ.get("FSEFLOW_LOAD_PATIENTS", "20000")),
)
WORLD = os.environ.get("FSEFLOW_LOAD_WORLD", "")
DAY = date.fromisoformat(os.environ.get("FSEFLOW_LOAD_DAY", SHAPE.start.isoformat()))
# One factory per Locust process; its own tag keeps lot and FSE ids unique across processes.
FACTORY = LotFactory(build_world(SHAPE), WORLD, f"locust-{uuid.uuid4().hex[:6]}", SHAPE)
NUMBERS = itertools.count()


class SubmitLotUser(User):
    """Sends a lot, waits for its ARL, sends the next (closed loop, no think time)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        if not WORLD:
            raise RuntimeError(
                "FSEFLOW_LOAD_WORLD is not set: load the world with `fseflow load world` first"
            )
        self.channel = grpc.insecure_channel(self.host)
        self.stub = LotIngestServiceStub(self.channel)

    def on_stop(self) -> None:
        self.channel.close()

    @task
    def submit_lot(self) -> None:
        built = FACTORY.build(next(NUMBERS), DAY)
        started = time.perf_counter()
        exception: Exception | None = None
        try:
            response = self.stub.SubmitLot(built.request, timeout=30)
            if not response.arl.positive:
                codes = ", ".join(e.code for e in response.arl.errors[:3])
                exception = RuntimeError(f"negative ARL: {codes}")
        except grpc.RpcError as error:
            exception = error
        self.environment.events.request.fire(
            request_type="grpc",
            name="SubmitLot",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=built.request.ByteSize(),
            exception=exception,
            context={"fse": built.fse},
        )
