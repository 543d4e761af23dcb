"""The vault: sealed, erasure-coded documents on two independent supports (R14).

Each document becomes seven pieces (six data, one parity); each support keeps all seven, one
file each, so a read needs any six good distinct pieces across the supports: it survives a
whole support gone, or any single piece missing or corrupted on both. Every read checks each
piece's digest and then the document's seal; what fails is never returned.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scor_store.domain import erasure, sealing


class DataLoss(RuntimeError):
    """The document cannot be rebuilt, or it does not match its seal."""


@dataclass(frozen=True)
class Layout:
    """What PostgreSQL keeps about a stored document's bytes."""

    size: int
    sha256: str
    seal: str
    pad_len: int
    piece_digests: tuple[str, ...]


@dataclass
class Inspection:
    # (support, piece) -> "ok" | "missing" | "corrupt"
    states: dict[tuple[int, int], str] = field(default_factory=dict)
    good: dict[int, bytes] = field(default_factory=dict)
    seal_ok: bool = False

    @property
    def health(self) -> str:
        if len(self.good) < erasure.DATA_PIECES or not self.seal_ok:
            return "lost"
        return "ok" if all(state == "ok" for state in self.states.values()) else "degraded"


class Durability:
    """Group commit: writers wait until a flush that started after their writes has finished.

    One ``syncfs`` per filesystem holding a support flushes the pieces of every document written
    by then (concurrent puts share it), instead of one fsync per piece and directory. Where
    ``syncfs`` is missing, every piece file is fsynced as it is written instead.
    """

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = list(roots)
        self._cond = threading.Condition()
        self._requested = 0
        self._completed = 0
        self._flushing = False

    def barrier(self) -> None:
        with self._cond:
            self._requested += 1
            ticket = self._requested
            while self._completed < ticket:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                target = self._requested
                self._cond.release()
                try:
                    self._flush()
                finally:
                    self._cond.acquire()
                    self._flushing = False
                    self._completed = max(self._completed, target)
                    self._cond.notify_all()

    def _flush(self) -> None:
        done: set[int] = set()
        for root in self.roots:
            device = root.stat().st_dev
            if device in done:
                continue
            done.add(device)
            fd = os.open(root, os.O_RDONLY)
            try:
                if _LIBC.syncfs(fd) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, f"syncfs({root}): {os.strerror(error)}")
            finally:
                os.close(fd)


def _libc() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc if hasattr(libc, "syncfs") else None
    except OSError:
        return None


_LIBC = _libc()
HAS_SYNCFS = _LIBC is not None


class Support:
    """One physical support: a directory (a volume on a cluster)."""

    def __init__(self, root: Path, *, fsync: bool) -> None:
        self.root = root
        self._made: set[Path] = set()
        # fsync each file only when there is no syncfs to flush a whole batch at once.
        self.fsync = fsync and not HAS_SYNCFS
        self.durable = fsync

    def _dir_and_stem(self, world: str, document_id: str) -> tuple[Path, str]:
        stem = hashlib.sha256(f"{world}\x00{document_id}".encode()).hexdigest()
        return self.root / stem[:2] / stem[2:4], stem

    def piece_path(self, world: str, document_id: str, piece: int) -> Path:
        directory, stem = self._dir_and_stem(world, document_id)
        return directory / f"{stem}.{piece}"

    def write(self, world: str, document_id: str, pieces: dict[int, bytes]) -> None:
        directory, stem = self._dir_and_stem(world, document_id)
        if directory not in self._made:
            directory.mkdir(parents=True, exist_ok=True)
            self._made.add(directory)
        for index, data in pieces.items():
            fd = os.open(directory / f"{stem}.{index}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            try:
                os.write(fd, data)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        if self.fsync:
            # The directory entries too: a piece must survive a crash once the put is answered.
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def read(self, world: str, document_id: str, piece: int) -> bytes | None:
        try:
            return self.piece_path(world, document_id, piece).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, world: str, document_id: str) -> None:
        for piece in range(erasure.ALL_PIECES):
            self.piece_path(world, document_id, piece).unlink(missing_ok=True)


class Vault:
    def __init__(self, supports: Sequence[Support], seal_key: bytes) -> None:
        if len(supports) != 2:
            raise ValueError("Scor keeps documents on exactly two supports")
        self.supports = list(supports)
        self.seal_key = seal_key
        # One thread per support: a document's writes go to both at once.
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scor-io")
        self._durability = (
            Durability([s.root for s in supports]) if supports[0].durable and HAS_SYNCFS else None
        )

    def store(self, world: str, document_id: str, content: bytes) -> Layout:
        sha256 = sealing.digest(content)
        encoded = erasure.encode(content)
        pieces = dict(enumerate(encoded.pieces))
        # Both supports at once; then one flush shared with the other puts in flight.
        list(self._io.map(lambda s: s.write(world, document_id, pieces), self.supports))
        self._sync()
        return Layout(
            size=len(content),
            sha256=sha256,
            seal=sealing.seal(self.seal_key, world, document_id, sha256),
            pad_len=encoded.pad_len,
            piece_digests=encoded.digests,
        )

    def _sync(self) -> None:
        if self._durability is not None:
            self._durability.barrier()

    def _good_piece(self, world: str, document_id: str, layout: Layout, piece: int) -> bytes | None:
        for support in self.supports:
            data = support.read(world, document_id, piece)
            if data is not None and erasure.piece_digest(data) == layout.piece_digests[piece]:
                return data
        return None

    def load(self, world: str, document_id: str, layout: Layout) -> bytes:
        """The document, checked; DataLoss when it cannot be rebuilt or fails its seal."""
        # The six data pieces at once (parallel reads); the parity piece only if one failed.
        found = self._io.map(
            lambda piece: self._good_piece(world, document_id, layout, piece), range(erasure.DATA_PIECES)
        )
        good = {piece: data for piece, data in enumerate(found) if data is not None}
        if len(good) < erasure.DATA_PIECES:
            parity = self._good_piece(world, document_id, layout, erasure.DATA_PIECES)
            if parity is not None:
                good[erasure.DATA_PIECES] = parity
        return self._rebuild(world, document_id, layout, good)

    def _rebuild(self, world: str, document_id: str, layout: Layout, good: dict[int, bytes]) -> bytes:
        try:
            content = erasure.decode(good, layout.pad_len)
        except erasure.NotEnoughPieces as exc:
            raise DataLoss(f"document {document_id}: {exc}") from None
        if not sealing.seal_holds(self.seal_key, world, document_id, content, layout.sha256, layout.seal):
            raise DataLoss(f"document {document_id}: the bytes do not match their seal")
        return content

    def inspect(self, world: str, document_id: str, layout: Layout) -> Inspection:
        """Every piece on every support, and the seal."""
        inspection = Inspection()
        for s, support in enumerate(self.supports):
            for piece in range(erasure.ALL_PIECES):
                data = support.read(world, document_id, piece)
                if data is None:
                    inspection.states[(s, piece)] = "missing"
                elif erasure.piece_digest(data) != layout.piece_digests[piece]:
                    inspection.states[(s, piece)] = "corrupt"
                else:
                    inspection.states[(s, piece)] = "ok"
                    inspection.good.setdefault(piece, data)
        try:
            self._rebuild(world, document_id, layout, inspection.good)
            inspection.seal_ok = True
        except DataLoss:
            inspection.seal_ok = False
        return inspection

    def repair(self, world: str, document_id: str, layout: Layout) -> Inspection:
        """Rewrite every missing or corrupt piece from six good ones; the inspection after."""
        before = self.inspect(world, document_id, layout)
        if before.health == "lost" or before.health == "ok":
            return before
        content = self._rebuild(world, document_id, layout, before.good)
        pieces = erasure.encode(content).pieces
        for s, support in enumerate(self.supports):
            broken = {p: pieces[p] for p in range(erasure.ALL_PIECES) if before.states[(s, p)] != "ok"}
            if broken:
                support.write(world, document_id, broken)
        self._sync()
        return self.inspect(world, document_id, layout)

    def purge(self, world: str, document_id: str) -> None:
        for support in self.supports:
            support.delete(world, document_id)

    def close(self) -> None:
        self._io.shutdown(wait=True)
