"""Where a client command (replay, bench, clock, subscribe) finds the running system.

KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL, when both are set, win (an external cluster, or a
stack started elsewhere); FSEFLOW_INGEST_ADDR then says where ingest's gRPC port is, POINTAGE_URL
where the pôle's decisions API is. Otherwise
the embedded stack recorded in $FSEFLOW_HOME/stack.json is used, if it runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fseflow.settings import KafkaSettings
from fseflow_tools.stack import BROKER_TANSU, Stack, StackState


@dataclass(frozen=True)
class Endpoints:
    kafka: KafkaSettings
    database_url: str
    ingest_address: str
    # The pôle's decisions API (pointage); each technician has a token of their own (D40).
    pointage_url: str
    # The embedded stack's broker (Tansu or Apache Kafka): readers start from the beginning of
    # topics (ListOffsets cannot be trusted on Tansu; on a short-lived local Kafka it costs little
    # and keeps both brokers on one path).
    embedded_kafka: bool

    @property
    def read_from(self) -> str:
        override = os.environ.get("FSEFLOW_READ_FROM")
        if override in ("beginning", "end"):
            return override
        return "beginning" if self.embedded_kafka else "end"


def from_environment(environ: Mapping[str, str], stack: Stack) -> Endpoints | None:
    running = stack.running()
    if environ.get("KAFKA_BOOTSTRAP_SERVERS") and environ.get("DATABASE_URL"):
        embedded = (
            running is not None
            and running.embedded_kafka
            and (running.kafka_bootstrap_servers == environ["KAFKA_BOOTSTRAP_SERVERS"])
        )
        default_ingest = running.ingest_address if running is not None else "127.0.0.1:50051"
        return Endpoints(
            kafka=KafkaSettings(),
            database_url=environ["DATABASE_URL"],
            ingest_address=environ.get("FSEFLOW_INGEST_ADDR", default_ingest),
            pointage_url=environ.get(
                "POINTAGE_URL", running.pointage_url if running is not None else "http://127.0.0.1:8103"
            ),
            embedded_kafka=embedded,
        )
    if running is not None:
        return from_stack(running)
    return None


def from_stack(state: StackState) -> Endpoints:
    """The recorded stack, as a client sees it: on Apache Kafka, as the admin (D55)."""
    env = state.env()
    return Endpoints(
        kafka=KafkaSettings(
            kafka_bootstrap_servers=state.kafka_bootstrap_servers,
            # Idempotent producers wherever the broker takes them: all but Tansu.
            kafka_idempotence=state.broker_kind != BROKER_TANSU,
            kafka_client=state.kafka_client,
            kafka_security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
            kafka_sasl_mechanism=env.get("KAFKA_SASL_MECHANISM"),
            kafka_sasl_username=env.get("KAFKA_SASL_USERNAME"),
            kafka_sasl_password=env.get("KAFKA_SASL_PASSWORD"),
            kafka_replication_factor=int(env.get("KAFKA_REPLICATION_FACTOR", "1")),
        ),
        database_url=state.database_url,
        ingest_address=state.ingest_address,
        pointage_url=state.pointage_url,
        embedded_kafka=state.embedded_kafka,
    )
