"""The chaos suite: replay one scenario undisturbed, then again in rounds while processes of the
stack are killed (SIGKILL) at random moments and restarted with ``Stack.restart``; every round's
results — classifications, payments, notices, recoveries, aids — must equal the undisturbed run's.

Kills are SIGKILL, never SIGTERM: a killed member of a consumer group is evicted when its session
times out, while one that leaves in the middle of a rebalance can wedge its group on Tansu
(docs/decisions.md D49). One process is down at a time, each ready again before the next kill.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fseflow.vocabulary import calendar
from fseflow_tools.demo import DemoShape, generate
from fseflow_tools.endpoints import from_stack
from fseflow_tools.replay.driver import Progress, Replay, ReplayFailed
from fseflow_tools.replay.scenario import Scenario, parse
from fseflow_tools.stack import FAILURES as STACK_FAILURES
from fseflow_tools.stack import Stack, StackState

# Share of FSE whose document never comes (their relances run to a recovery) and of FSE a
# technician decides (litigieuses are decided; other FSE's decisions are refused, also a result).
NO_DOCUMENT_SHARE = 0.04
DECISION_SHARE = 0.01
# Calendar days after the last lot: J135 recoveries, and the payments that take them.
AFTERMATH_DAYS = 160


@dataclass(frozen=True)
class Kill:
    instance: str
    day: date
    after_s: float  # into the replay of that day
    restarted_in_s: float = 0.0


@dataclass
class Round:
    number: int
    kills: list[Kill] = field(default_factory=list)
    identical: bool = False
    differences: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def scenario(*, fse: int, business_days: int, seed: int) -> dict[str, Any]:
    """A generated world of about ``fse`` FSE over ``business_days`` days, then months of
    relances: some documents never come, some FSE are decided by a technician."""
    # Each professional sends about one lot of 24 FSE a day: 10 % more of them to reach ``fse``.
    professionals = max(10, round(fse / business_days / 24 * 1.1))
    document = generate(
        DemoShape(
            seed=seed,
            business_days=business_days,
            professionals=professionals,
            patients=max(1000, professionals * 40),
            fse_per_lot=(16, 32),
        )
    )
    rng = random.Random(seed)  # noqa: S311 - a simulation, not cryptography
    decisions: list[dict[str, Any]] = []
    for event in document["events"]:
        lot = event.get("lot")
        if not lot:
            continue
        for sheet in lot["fse"]:
            if rng.random() < NO_DOCUMENT_SHARE:
                sheet.pop("document", None)
            if rng.random() < DECISION_SHARE:
                on = calendar.next_business_day(calendar.next_business_day(date.fromisoformat(event["on"])))
                outcome = rng.choice(["accord", "rejet"])
                decisions.append(
                    {
                        "on": on.isoformat(),
                        "decision": {
                            "fse": sheet["id"],
                            "outcome": outcome,
                            "technician": f"t-chaos-{lot['ps'][-1]}",
                        },
                    }
                )
    until = date.fromisoformat(document["until"]) + timedelta(days=AFTERMATH_DAYS)
    document["events"] += [d for d in decisions if str(d["on"]) <= until.isoformat()]
    document["events"] += _later_lots(document["events"], date.fromisoformat(document["until"]), until)
    document["until"] = calendar.on_or_after(until).isoformat()
    document["name"] = f"chaos-{seed}"
    return document


def _later_lots(events: list[dict[str, Any]], after: date, until: date) -> list[dict[str, Any]]:
    """Every 10 business days after the busy days, each professional's first lot again (two of
    its FSE, new ids, moved to that day): the payments from which recoveries are taken."""
    first_lots: dict[str, tuple[date, dict[str, Any]]] = {}
    for event in events:
        if "lot" in event and event["lot"]["ps"] not in first_lots:
            first_lots[event["lot"]["ps"]] = (date.fromisoformat(event["on"]), event["lot"])
    later: list[dict[str, Any]] = []
    day, number = calendar.next_business_day(after), 0
    while day <= until:
        number += 1
        if number % 10 == 0:
            for ps, (sent_on, lot) in sorted(first_lots.items()):
                shift = day - sent_on
                sheets = [_moved(sheet, shift, f"a{number}") for sheet in lot["fse"][:2]]
                later.append(
                    {"on": day.isoformat(), "lot": {"id": f"{lot['id']}-a{number}", "ps": ps, "fse": sheets}}
                )
        day = calendar.next_business_day(day)
    return later


def _moved(sheet: dict[str, Any], shift: timedelta, suffix: str) -> dict[str, Any]:
    moved: dict[str, Any] = json.loads(json.dumps(sheet))
    moved["id"] = f"{sheet['id']}-{suffix}"
    for act in moved["acts"]:
        act["on"] = (date.fromisoformat(act["on"]) + shift).isoformat()
    if moved.get("prescribed_on"):
        moved["prescribed_on"] = (date.fromisoformat(moved["prescribed_on"]) + shift).isoformat()
    if isinstance(moved.get("document"), dict):
        moved["document"]["id"] = f"{sheet['document']['id']}-{suffix}"
    return moved


def comparable(results: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in results.items() if k != "world"}


def differences(expected: dict[str, Any], got: dict[str, Any], limit: int = 5) -> list[str]:
    """What differs, by top-level key and then entry, at most ``limit`` lines."""
    found: list[str] = []
    for key in sorted(set(expected) | set(got)):
        a, b = expected.get(key), got.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for entry in sorted(set(a) | set(b)):
                if a.get(entry) != b.get(entry):
                    found.append(f"{key}.{entry}: {a.get(entry)!r} != {b.get(entry)!r}")
        elif isinstance(a, list) and isinstance(b, list):
            found.append(
                f"{key}: {len(a)} entries != {len(b)}; first difference: "
                + next((f"{x!r} != {y!r}" for x, y in zip(a, b, strict=False) if x != y), "(lengths)")
            )
        else:
            found.append(f"{key}: {a!r} != {b!r}")
        if len(found) >= limit:
            break
    return found[:limit]


class Chaos:
    def __init__(
        self,
        stack: Stack,
        state: StackState,
        scenario_document: dict[str, Any],
        *,
        seed: int = 1,
        kills_per_round: int = 3,
        say: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.stack = stack
        self.state = state
        self.scenario: Scenario = parse(scenario_document)
        self.rng = random.Random(seed)  # noqa: S311 - which process dies when: not a secret
        self.kills_per_round = kills_per_round
        self.say = say
        self.days = self._business_days()
        self.lot_days = {event.on for event in self.scenario.events if event.kind == "lot"}

    def _business_days(self) -> list[date]:
        days, day = [], calendar.on_or_after(self.scenario.start)
        while day <= self.scenario.until:
            days.append(day)
            day = calendar.next_business_day(day)
        return days

    async def fresh_stack(self) -> None:
        """Stop the stack, delete its data and start it empty, with the same ports and services.
        Tansu keeps every topic in memory and its CPU per fetch grows with what it holds: on one
        stack the rounds took 512, 643, 940, 1,149 and 2,234 s (docs/decisions.md D82)."""
        self.stack.down(self.stack.load() or self.state, wipe=True)
        outcome = await asyncio.to_thread(self.stack.ensure_up)
        self.state = outcome.state

    def targets(self) -> list[str]:
        return sorted(self.state.services)

    async def undisturbed(self) -> dict[str, Any]:
        started = time.monotonic()
        results = await Replay(self.scenario, from_stack(self.state)).run()
        self.say(f"undisturbed run: {len(results['fse'])} FSE in {time.monotonic() - started:.0f}s")
        return comparable(results)

    async def round(self, number: int, expected: dict[str, Any]) -> Round:
        result = Round(number)
        # Kills on distinct days: half while lots flow, the others anywhere (closes, relances).
        lot_days = [i for i, day in enumerate(self.days) if i and day in self.lot_days]
        half = min(len(lot_days), (self.kills_per_round + 1) // 2)
        chosen: set[int] = set(self.rng.sample(lot_days, half))
        while len(chosen) < min(self.kills_per_round, len(self.days) - 1):
            chosen.add(self.rng.randrange(1, len(self.days)))
        plan = {
            self.days[i]: (self.rng.choice(self.targets()), self.rng.uniform(0.0, 0.5))
            for i in sorted(chosen)
        }
        pending: list[asyncio.Task[None]] = []
        busy = asyncio.Lock()  # one process down at a time

        async def kill(instance: str, day: date, after_s: float) -> None:
            async with busy:
                await asyncio.sleep(after_s)
                self.state = self.stack.load() or self.state
                self.say(f"round {number}: day {day} +{after_s:.2f}s: kill -9 {instance}")
                self.stack.stop_service(self.state, instance, signal.SIGKILL, wait=5)
                began = time.monotonic()
                try:
                    await asyncio.to_thread(self.stack.restart, instance, instance_only=True)
                    self.say(f"round {number}: {instance} ready again after {time.monotonic() - began:.1f}s")
                except STACK_FAILURES as exc:
                    result.failures.append(f"{instance} did not come back: {exc}")
                self.state = self.stack.load() or self.state
                result.kills.append(Kill(instance, day, after_s, time.monotonic() - began))

        def on_progress(progress: Progress) -> None:
            target = plan.pop(progress.day, None)
            if target is not None:
                pending.append(
                    asyncio.get_running_loop().create_task(kill(target[0], progress.day, target[1]))
                )

        started = time.monotonic()
        try:
            got = comparable(await Replay(self.scenario, from_stack(self.state), progress=on_progress).run())
        except ReplayFailed as exc:
            got = {}
            result.failures.append(f"the replay did not finish: {exc}")
        for outcome in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(outcome, BaseException):
                result.failures.append(f"a kill failed: {outcome!r}")
        result.seconds = time.monotonic() - started
        result.differences = result.failures + (differences(expected, got) if got else [])
        result.identical = not result.differences
        return result
