"""Feeding a stream parser (think tags, Harmony repair) a text in pieces, as an upstream would."""

from __future__ import annotations

from itertools import pairwise
from typing import Protocol

from router.reasoning.pieces import Piece


class PieceStream(Protocol):
    def feed(self, delta: str) -> list[Piece]: ...
    def finish(self) -> list[Piece]: ...


def fed_in_pieces(stream: PieceStream, text: str, cuts: list[int]) -> list[Piece]:
    """What `stream` yields for `text` cut at the (ascending) offsets `cuts`, then finished."""
    pieces: list[Piece] = []
    for start, end in pairwise([0, *cuts, len(text)]):
        pieces += stream.feed(text[start:end])
    pieces += stream.finish()
    return pieces
