"""The generator is open loop: against a stalled or saturated null endpoint, every intended send
is measured from its intended instant (no coordinated omission); and its own ceiling.

The null endpoint is a real gRPC server (``fseflow_tools.load.null_server``) in this process or
in one of its own; nothing else runs. Assertions are lower bounds that a slow machine can only
make larger: no test here fails on a clock.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import grpc
import pytest

from fseflow.contracts.claims.v1.claims_pb2 import Lot
from fseflow.contracts.cti.v1.ingest_pb2 import SubmitLotRequest
from fseflow.contracts.cti.v1.ingest_pb2_grpc import LotIngestServiceStub
from fseflow_tools.load import null_server, profiles
from fseflow_tools.load.ceiling import measure_ceiling
from fseflow_tools.load.generator import Generator, GeneratorFailed
from fseflow_tools.load.lots import WorldShape
from fseflow_tools.load.openloop import OK, OpenLoop, Outcome
from fseflow_tools.load.profiles import Send, schedule
from fseflow_tools.load.worker import WorkerPlan


@dataclass
class Kept:
    offered: list[tuple[Send, float]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def offered_(self, send: Send, intended: float) -> None:
        self.offered.append((send, intended))

    def answered(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


class _Recorder:
    def __init__(self, kept: Kept) -> None:
        self.kept = kept

    def offered(self, send: Send, intended: float) -> None:
        self.kept.offered_(send, intended)

    def answered(self, outcome: Outcome) -> None:
        self.kept.answered(outcome)


async def _submitter(port: int):
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    await asyncio.wait_for(channel.channel_ready(), 10)
    stub = LotIngestServiceStub(channel)

    async def submit(send: Send) -> str:
        request = SubmitLotRequest(world="w", lot=Lot(lot_id=f"lot-{send.index}", ps_id="ps"))
        response = await stub.SubmitLot(request, timeout=30)
        return OK if response.arl.positive else "REFUSED"

    return channel, submit


async def test_a_stalled_endpoint_raises_the_latency_of_every_send_intended_during_the_stall() -> None:
    server, servicer, port = await null_server.serve()
    channel, submit = await _submitter(port)
    try:
        servicer.gate.clear()  # the endpoint stalls: it takes calls and answers none
        kept = Kept()
        loop = OpenLoop(submit, _Recorder(kept))
        profile = profiles.constant(200.0, 1.5, 200)  # a lot of 10 FSE every 50 ms: 30 lots
        start_at = time.monotonic() + 0.1
        running = asyncio.create_task(loop.run(schedule(profile, lambda _i: 10), start_at))
        # Open the gate once every send of the schedule was made: the sender never waited.
        deadline = time.monotonic() + 30
        while servicer.lots < 30:
            assert time.monotonic() < deadline, f"only {servicer.lots} of 30 sends reached the server"
            await asyncio.sleep(0.01)
        opened_at = time.monotonic()
        servicer.gate.set()
        await asyncio.wait_for(running, 30)
    finally:
        await channel.close()
        await server.stop(None)
    assert len(kept.offered) == len(kept.outcomes) == 30  # every intended send measured, none dropped
    by_index = sorted(kept.outcomes, key=lambda o: o.send.index)
    for outcome in by_index:
        assert outcome.status == OK
        # Measured from its intended instant, so it includes the whole wait for the gate.
        assert outcome.latency >= opened_at - outcome.intended
    # The first send waited at least until the last one was sent (the gate opened after it): its
    # latency covers the whole schedule, never capped at one call's time as a closed loop would
    # record it. (A lower bound: the answers may come back in any order on a busy machine.)
    assert by_index[0].latency >= by_index[-1].intended - by_index[0].intended


async def test_a_saturated_endpoint_makes_latency_grow_linearly_with_the_intended_instant() -> None:
    # One call at a time, 20 ms each, offered one every 10 ms: the queue grows by 10 ms a send.
    server, _servicer, port = await null_server.serve(service_s=0.02)
    channel, submit = await _submitter(port)
    try:
        kept = Kept()
        loop = OpenLoop(submit, _Recorder(kept), max_in_flight=1_000)
        profile = profiles.constant(100.0, 0.8, 200)  # 80 lots of 1 FSE
        start_at = time.monotonic() + 0.1
        await asyncio.wait_for(loop.run(schedule(profile, lambda _i: 1), start_at), 60)
    finally:
        await channel.close()
        await server.stop(None)
    outcomes = sorted(kept.outcomes, key=lambda o: o.send.index)
    assert len(outcomes) == 80
    for k, outcome in enumerate(outcomes):
        # The k-th call cannot end before k + 1 calls of 20 ms were served after the start.
        assert outcome.finished - start_at >= (k + 1) * 0.02 * 0.99
        assert outcome.latency >= (k + 1) * 0.02 * 0.99 - outcome.send.at
    assert outcomes[-1].latency >= 0.75  # 80 × 20 ms - 0.8 s: the last waited for the queue


async def test_when_the_generator_is_held_a_late_start_is_in_the_latency_and_the_delay() -> None:
    server, _servicer, port = await null_server.serve()
    channel, submit = await _submitter(port)
    try:
        kept = Kept()
        loop = OpenLoop(submit, _Recorder(kept))
        start_at = time.monotonic() + 0.05
        # The event loop is blocked for 0.5 s (the generator itself stalls) while sends are due.
        running = asyncio.create_task(
            loop.run(schedule(profiles.constant(100.0, 1.0, 200), lambda _i: 1), start_at)
        )
        await asyncio.sleep(0.06)
        time.sleep(0.5)  # noqa: ASYNC251 - on purpose: the sender cannot run
        held_until = time.monotonic()
        await asyncio.wait_for(running, 30)
    finally:
        await channel.close()
        await server.stop(None)
    held = [o for o in kept.outcomes if o.intended < held_until - 0.05]
    assert len(held) >= 20
    for outcome in held:
        assert outcome.delay >= held_until - outcome.intended - 0.001
        assert outcome.latency >= outcome.delay


async def test_the_generators_ceiling_against_a_null_endpoint() -> None:
    """Two worker processes against a null server process: print what they reach (no
    assertion on speed: the machine is shared)."""
    figures = await measure_ceiling(2, 32_000.0, 2.0, WorldShape(professionals=50, patients=1000))
    print(f"\ngenerator ceiling (2 workers, null endpoint, doubling from 1,000 FSE/s): {figures}")
    assert figures["steps"], figures
    assert figures["steps"][0]["offered_rate"] == 1000.0
    # The search stops at the first step that fell behind, or after the last one.
    behind = [s for s in figures["steps"] if not s["kept_up"]]
    assert len(behind) <= 1 and (not behind or behind[0] == figures["steps"][-1])


async def test_workers_still_sending_past_their_time_stop_the_run_naming_them() -> None:
    """A worker far behind its schedule is told to stop sending at ``collect``'s deadline; one
    whose answers still never come (a stalled endpoint, a long drain) is given up on after the
    grace instead of being waited for without end."""
    server, servicer, port = await null_server.serve()
    servicer.gate.clear()
    plan = WorkerPlan(
        0,
        1,
        f"127.0.0.1:{port}",
        profiles.constant(50.0, 0.5, 200),
        WorldShape(professionals=20, patients=200),
        "load-test",
        "stall",
        drain_s=600.0,
    )
    generator = Generator(plan, 1, lambda _delta: None)
    try:
        await generator.start()
        with pytest.raises(GeneratorFailed, match=r"fseflow-load-0 still running past the schedule"):
            await generator.collect(within_s=3.0, grace_s=2.0)
        assert generator.cut_short
    finally:
        await generator.close(within_s=1.0)
        servicer.gate.set()
        await server.stop(None)
    assert servicer.lots > 0  # it was sending, not failing to start
