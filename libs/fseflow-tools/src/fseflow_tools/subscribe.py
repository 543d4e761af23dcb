"""``fseflow subscribe RR-CCC``: one regional caisse's flow, live, from its own topics only.

It reads the organism's topic family (``caisse.RR-CCC.*``) and nothing else, as a caisse's
consumer limited by a prefix ACL would; each event is printed as one line (or one JSON object).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from fseflow.codec import DecodeError, decode
from fseflow.contracts.clock.v1.clock_pb2 import DayMark
from fseflow.contracts.pointage.v1.pointage_pb2 import (
    AccordsValidated,
    DocumentMatched,
    FseDelivered,
    FseReplaced,
    LitigieuseDecided,
    NoticeSent,
    PaymentMade,
)
from fseflow.kafka.factory import KafkaFactory
from fseflow.topics import CAISSE_KINDS, TopicSpec, caisse_topic

# Seconds without an event after which a caisse's access is checked again.
RECHECK_S = 10.0


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f} €"


def describe(message: Message) -> str:
    """One human line per event of a caisse topic."""
    if isinstance(message, FseDelivered):
        reasons = f" ({', '.join(message.reasons)})" if message.reasons else ""
        return (
            f"{message.delivered_on} delivered  {message.fse_id} of {message.ps_id}: "
            f"{message.classification}{reasons}, {_euros(message.amount_cents)}"
        )
    if isinstance(message, AccordsValidated):
        return f"{message.validated_on} validated  {len(message.fse)} accord(s) by {message.by}"
    if isinstance(message, LitigieuseDecided):
        pay = f", paid on {message.pay_on}" if message.pay_on else ""
        who = f"{message.outcome} by {message.technician}"
        return f"{message.decided_on} decided    {message.fse_id}: {who}{pay}"
    if isinstance(message, FseReplaced):
        return f"{message.replaced_on} replaced   {message.fse_id} by {message.replaced_by}"
    if isinstance(message, PaymentMade):
        return (
            f"{message.paid_on} payment    {message.ps_id}: {len(message.lines)} FSE, gross "
            f"{_euros(message.gross_cents)}, offset {_euros(message.offset_cents)}, "
            f"net {_euros(message.net_cents)}"
        )
    if isinstance(message, DocumentMatched):
        return f"{message.matched_on} matched    {message.document_id} to {message.fse_id}"
    if isinstance(message, NoticeSent):
        first_line = message.text.splitlines()[0] if message.text else ""
        about = f"{message.kind} to {message.ps_id} about {message.fse_id}"
        return f"{message.sent_on} notice     {about}: {first_line}"
    if isinstance(message, DayMark):
        return f"{message.day} day closed by the pôle"
    return type(message).__name__


def organism_of(message: Message) -> str:
    return str(getattr(message, "organism", ""))


async def subscribe(
    kafka: KafkaFactory,
    organism: str,
    *,
    kinds: Sequence[str] = CAISSE_KINDS,
    world: str | None = None,
    start_from: str = "end",
    idle_exit_s: float | None = None,
    show_days: bool = False,
    as_json: bool = False,
    write: Callable[[str], None] = print,
    group_id: str | None = None,
    check_access: Callable[[list[str]], None] | None = None,
) -> int:
    """Print the organism's events until interrupted (or ``idle_exit_s`` without any).

    ``group_id``: the group librdkafka is given (it reads assigned partitions and never commits);
    with a caisse's credentials it must be under ``caisse.RR-CCC.``, the only groups it may use.
    ``check_access`` (a caisse's credentials): raises when they may not read the topics; called
    before anything else and after every ``RECHECK_S`` without an event, so a revoked
    caisse's subscription ends instead of logging refused fetches forever.
    """
    specs: list[TopicSpec] = [caisse_topic(organism, kind) for kind in kinds]
    names = [kafka.names(spec) for spec in specs]
    if check_access is not None:
        await asyncio.to_thread(check_access, names)
    await kafka.ensure_topics(specs)
    by_name = dict(zip(names, specs, strict=True))
    consumer = kafka.consumer(specs, group_id=group_id, assign_all_from=start_from)
    await consumer.start()
    seen: set[str] = set()
    printed = 0
    last_event = last_check = time.monotonic()
    try:
        while idle_exit_s is None or time.monotonic() - last_event < idle_exit_s:
            records = await consumer.poll_batch(1000, 0.2)
            if records:
                last_event = time.monotonic()
            elif check_access is not None and time.monotonic() - max(last_event, last_check) >= RECHECK_S:
                await asyncio.to_thread(check_access, names)
                last_check = time.monotonic()
            for record in records:
                try:
                    envelope = decode(record, by_name[record.topic])
                except DecodeError:
                    continue
                message = envelope.message
                if world is not None and getattr(message, "world", None) != world:
                    continue
                if envelope.event_id in seen or (isinstance(message, DayMark) and not show_days):
                    continue
                seen.add(envelope.event_id)
                if as_json:
                    write(
                        json.dumps(
                            {
                                "topic": record.topic,
                                "type": envelope.type_name,
                                "event": MessageToDict(message, preserving_proto_field_name=True),
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    write(f"{record.topic:<28} {getattr(message, 'world', '')}  {describe(message)}")
                printed += 1
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return printed
