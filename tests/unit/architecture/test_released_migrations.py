"""Migrations are append-only: every released migration is pinned by the SHA-256 of its text.

A database keeps the versions it applied and never applies them again, so an edited migration
silently never reaches a persistent database. Editing one fails here; a new migration is a new
entry in its list and a new hash in this table (computed by ``sha256_of``).
"""

from __future__ import annotations

import hashlib
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

RELEASED: dict[str, tuple[str, ...]] = {
    "fseflow.world": ("2f6b960779019f82a7c60e9f8d61c58161074bc1c5f6ae5d22c665bf49356792",),
    "fseflow.vocabulary.refdata": ("87955b94efe9bf23519bbdae21b9bc5a212a74285ff3d770d348eb7daa806d61",),
    "ingest.adapters.postgres": (
        "00db255659b3813ed94256f03158fdfca8c1f6df2daa7f5721c3c20fef6c4da1",
        "2c0bc6fba57da4485fda4d3650dfd73ae1dca709f4b74e6f55da81e08d5349c4",
        "a8057ab3ab2a9430fab15dcbf077c61d1005b72e39268adcf2e2473bbb6c5a87",
    ),
    "national_check.adapters.postgres": (
        "898217edde9b716b0c11360317006236342843c9c30dc1c5c0181b9730d7ce7f",
        "74effb037cfbbd9855a4c67a344f0869dbaa22819940408c74ee84752b50827c",
        "720d9d2d6a0244ae7baa1f5100e21e7a84df5c9d78853423d55ce799c80cbc87",
    ),
    "pointage.adapters.postgres.schema": (
        # v1 as released in 9b1f2f9 (it had been edited in place since: restored, the edit is v5).
        "6eec2553c038f840811dbeae5abede1707d8ff5efc12a6fb6356319f67ab9fa6",
        "c19197e739774a06be6f2091c74f8bb3ad94b8a8efd0f6ac723f179ec079f2f1",
        "a086d6f2ba53e9945533725e2731a64d838ccec42bfd5b8cdfeffda58eeeab05",
        "c5212ac0c5bb573cfcadba8a0f38f79a7ef4bc65204509bf61dfed005188ddd3",
        "ce70aa0b12abc5c960403535ac7cd2ea15a73c3ed5d47a0382cc1838b2ce5082",
    ),
    "relances.adapters.postgres": (
        "ec80ff39112cb80c4ee9bfd3848327bd7d4a62ae0a8b7587cef76afe34363684",
        "f1e9f18a9a382c8fe4bcc0309626b994712cf47d96d028b1d31a398551371042",
    ),
    "scor_store.adapters.postgres": (
        "2182ac951532ec814a57963d040fe9aa6b5a42b04b14e749d9b88ea9d944f498",
        "6c57b8cb7222b14bc5ed3adfeae29f38fb1f50b7fb40133128383e22a575b603",
    ),
}


def sha256_of(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def migrations_of(module: str) -> list[str]:
    migrations: list[str] = importlib.import_module(module).MIGRATIONS
    return migrations


@pytest.mark.parametrize("module", sorted(RELEASED))
def test_no_released_migration_was_edited(module: str) -> None:
    current = [sha256_of(sql) for sql in migrations_of(module)]
    for version, pinned in enumerate(RELEASED[module], start=1):
        assert version <= len(current), f"{module}: migration v{version} was removed"
        assert current[version - 1] == pinned, (
            f"{module}: released migration v{version} was edited (sha256 {current[version - 1]}, "
            f"released {pinned}): restore it and add the change as v{len(current) + 1}"
        )


@pytest.mark.parametrize("module", sorted(RELEASED))
def test_every_migration_is_pinned(module: str) -> None:
    current = [sha256_of(sql) for sql in migrations_of(module)]
    unpinned = current[len(RELEASED[module]) :]
    assert not unpinned, f"{module}: pin the new migration(s) in RELEASED: {unpinned}"


def test_every_migration_list_is_in_the_table() -> None:
    """A component with migrations that this table does not know would escape the pin."""
    defining = set()
    for source in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        if re.search(r"^MIGRATIONS\b.*=", source.read_text(), re.MULTILINE):
            package_root = next(p for p in source.parents if p.name == "src")
            defining.add(
                ".".join(source.relative_to(package_root).with_suffix("").parts).removesuffix(".__init__")
            )
    assert defining == set(RELEASED)


def test_an_edited_migration_is_caught() -> None:
    released = migrations_of("pointage.adapters.postgres.schema")[0]
    edited = released.replace("fse bytea NOT NULL", "classified bytea NOT NULL")
    assert edited != released
    assert sha256_of(edited) != RELEASED["pointage.adapters.postgres.schema"][0]
