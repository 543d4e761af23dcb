"""Which paid FSE wait for a supporting document (R18, R19)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

DI_CODE = "DI"


class Act(Protocol):
    @property
    def code(self) -> str: ...


class Claim(Protocol):
    """What R19 reads of an FSE (the claims contract's Fse has it)."""

    @property
    def suite_de_soins(self) -> bool: ...

    @property
    def dsi_sent(self) -> bool: ...

    @property
    def acts(self) -> Iterable[Act]: ...


def needs_document(fse: Claim) -> bool:
    """R19: no prescription for an encoded "suite de soins", nor for care covered by a DSI (but a
    DI act needs its prescription). Everything else waits for its document (R18)."""
    if fse.suite_de_soins:
        return False
    return not (fse.dsi_sent and all(act.code != DI_CODE for act in fse.acts))
