"""Users and ACLs on an Apache Kafka with SASL/SCRAM and the StandardAuthorizer, through
librdkafka's admin client (no Java tool at run time): ``fseflow_tools.acl`` says what, this applies it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from fseflow_tools.acl import Grant

SCRAM_ITERATIONS = 8192
_TIMEOUT = 15.0

_RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP, "cluster": ResourceType.BROKER}
_PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefix": ResourcePatternType.PREFIXED}
_OPERATIONS = {
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
    "Describe": AclOperation.DESCRIBE,
    "Create": AclOperation.CREATE,
}


class AccessError(RuntimeError):
    pass


def binding(grant: Grant) -> AclBinding:
    return AclBinding(
        _RESOURCES[grant.resource],
        "kafka-cluster" if grant.resource == "cluster" else grant.name,
        _PATTERNS[grant.pattern],
        grant.principal,
        "*",
        _OPERATIONS[grant.operation],
        AclPermissionType.ALLOW,
    )


def _results(futures: Mapping[Any, Any], what: str) -> None:
    problems = []
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            problems.append(f"{key}: {exc.args[0] if exc.args else exc}")
    if problems:
        raise AccessError(f"{what} failed: {'; '.join(str(p) for p in problems)}")


def upsert_users(admin: AdminClient, passwords: Mapping[str, str]) -> None:
    """Create or update SCRAM-SHA-512 users."""
    if not passwords:
        return
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts = [UserScramCredentialUpsertion(user, info, pw.encode()) for user, pw in passwords.items()]
    _results(admin.alter_user_scram_credentials(upserts, request_timeout=_TIMEOUT), "creating SCRAM users")


def delete_users(admin: AdminClient, users: Iterable[str]) -> list[str]:
    """Delete SCRAM users; returns those that existed."""
    described = admin.describe_user_scram_credentials(list(users), request_timeout=_TIMEOUT)
    existing = []
    for user, future in described.items():
        try:
            future.result()
            existing.append(user)
        except KafkaException:
            continue  # RESOURCE_NOT_FOUND: no such user
    if existing:
        deletions = [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in existing]
        _results(admin.alter_user_scram_credentials(deletions, request_timeout=_TIMEOUT), "deleting users")
    return existing


def create_acls(admin: AdminClient, grants: Iterable[Grant]) -> int:
    """Create the ACLs (creating one that exists changes nothing); returns how many were asked."""
    bindings = [binding(g) for g in grants]
    if bindings:
        _results(admin.create_acls(bindings, request_timeout=_TIMEOUT), "creating ACLs")
    return len(bindings)


def delete_acls_of(admin: AdminClient, principal: str) -> int:
    """Delete every ACL of ``principal``; returns how many were deleted."""
    any_filter = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        principal,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    deleted = 0
    for _filter, future in admin.delete_acls([any_filter], request_timeout=_TIMEOUT).items():
        try:
            deleted += len(future.result())
        except KafkaException as exc:
            raise AccessError(f"deleting the ACLs of {principal} failed: {exc}") from exc
    return deleted


def acls_of(admin: AdminClient, principal: str) -> list[AclBinding]:
    any_filter = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        principal,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    found: list[AclBinding] = admin.describe_acls(any_filter, request_timeout=_TIMEOUT).result()
    return found
