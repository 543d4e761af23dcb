"""Settings shared by every service and by the command line.

Only this module (and each service's ``config.py``, which extends these classes) reads the
environment. The variable names are the usual ones, so the same code runs against the embedded
stack and against Apache Kafka / a managed PostgreSQL: ``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, and the standard ``OTEL_*`` variables for telemetry.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WORLD = "default"


class KafkaSettings(BaseSettings):
    """How to reach the broker and how hard to batch."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(description="host:port[,host:port], e.g. kafka:9092")
    # confluent = librdkafka (measured faster here, see docs/decisions.md); aiokafka = pure asyncio.
    kafka_client: Literal["confluent", "aiokafka"] = "confluent"
    # Tansu refuses idempotent producers; the embedded stack sets this to false.
    kafka_idempotence: bool = True
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_ca_location: str | None = None
    # librdkafka's debug contexts (e.g. "cgrp,fetch"), written to the service's log: for an
    # operator chasing a consumer that does not move. Empty: off.
    kafka_debug: str = ""
    kafka_linger_ms: int = 5
    # Tansu answers a parked fetch only when this wait expires: it is the per-hop latency floor.
    kafka_fetch_max_wait_ms: int = 100
    # Tansu makes a new member wait half the session timeout before the first assignment.
    kafka_session_timeout_ms: int = 6000
    kafka_max_batch: int = 2000
    kafka_topic_prefix: str = ""
    # Partitions of the data topics: one per CTI at least, always a multiple of eight.
    kafka_partitions: int = 8
    kafka_replication_factor: int = 1

    @field_validator("kafka_partitions")
    @classmethod
    def _multiple_of_eight(cls, value: int) -> int:
        if value <= 0 or value % 8:
            raise ValueError("must be a positive multiple of 8 (one partition per CTI at least)")
        return value


class PostgresSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(description="postgresql://user:password@host:port/database")
    db_pool_min: int = 1
    db_pool_max: int = 10

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value


class OpsSettings(BaseSettings):
    """Health, metrics and logs of one service process."""

    model_config = SettingsConfigDict(extra="ignore")

    # Loopback unless set: a container sets METRICS_HOST=0.0.0.0 so that Prometheus can scrape it.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9100
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    # How often fseflow_dead_letter_topic_records is refreshed from the DLQ's watermarks.
    dlq_depth_interval_s: float = Field(default=10.0, gt=0)


class ServiceSettings(KafkaSettings, PostgresSettings, OpsSettings):
    """What every service needs; each service's ``config.Settings`` adds its own fields."""


class DayCloseSettings(BaseSettings):
    """Stages that close business days (pointage, relances)."""

    model_config = SettingsConfigDict(extra="ignore")

    # A day the clock closed that this stage has not closed after this long is reported: the
    # stage is not ready, fseflow_day_close_late_seconds rises, a log line names the missing
    # DayMarks. A replayed day takes well under a second; a national day's backlog, minutes.
    day_close_late_after_s: float = Field(default=120.0, gt=0)
