"""Six data pieces plus one parity piece (R14), with zfec: any six distinct pieces rebuild the
document. Each piece carries its own digest, so a corrupt piece is told from a good one."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from zfec import easyfec

DATA_PIECES = 6
ALL_PIECES = 7  # six data pieces and one parity piece


@dataclass(frozen=True)
class Encoded:
    pieces: tuple[bytes, ...]
    digests: tuple[str, ...]
    pad_len: int


class NotEnoughPieces(ValueError):
    pass


def piece_digest(piece: bytes) -> str:
    return hashlib.sha256(piece).hexdigest()


def encode(content: bytes) -> Encoded:
    pieces = tuple(easyfec.Encoder(DATA_PIECES, ALL_PIECES).encode(content))
    pad_len = len(pieces[0]) * DATA_PIECES - len(content)
    return Encoded(pieces, tuple(piece_digest(p) for p in pieces), pad_len)


def decode(good: Mapping[int, bytes], pad_len: int) -> bytes:
    """The document from any six good distinct pieces (index -> bytes)."""
    if len(good) < DATA_PIECES:
        raise NotEnoughPieces(f"{len(good)} good distinct pieces, {DATA_PIECES} needed")
    chosen = sorted(good)[:DATA_PIECES]
    if chosen == list(range(DATA_PIECES)):
        # The data pieces alone: the code is systematic, they are the document.
        joined = b"".join(good[i] for i in chosen)
        return joined[: len(joined) - pad_len] if pad_len else joined
    decoder = easyfec.Decoder(DATA_PIECES, ALL_PIECES)
    return bytes(decoder.decode([good[i] for i in chosen], chosen, pad_len))
