"""What the streaming splitters emit, and how a sequence of pieces adds up.

A splitter turns upstream ``content`` text into pieces of three kinds: ``reasoning``,
``content`` and ``tool_call``. A tool call is announced by a piece with empty ``text`` that
carries its ``tool_index`` and ``tool_name``; the pieces that follow for the same index carry
the call's arguments, fragment by fragment (the name is repeated on each).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

PieceKind = Literal["reasoning", "content", "tool_call"]


@dataclass(frozen=True, slots=True)
class Piece:
    kind: PieceKind
    text: str
    tool_index: int | None = None
    tool_name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallText:
    """A tool call recovered from text: the function's name and its raw argument text."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Assembled:
    reasoning: str
    content: str
    tool_calls: tuple[ToolCallText, ...]


def assemble(pieces: Iterable[Piece]) -> Assembled:
    """Join pieces per kind, and tool-call fragments per call index, in order."""
    reasoning: list[str] = []
    content: list[str] = []
    names: dict[int, str] = {}
    arguments: dict[int, list[str]] = {}
    for piece in pieces:
        if piece.kind == "reasoning":
            reasoning.append(piece.text)
        elif piece.kind == "content":
            content.append(piece.text)
        else:
            index = piece.tool_index if piece.tool_index is not None else len(names)
            names.setdefault(index, piece.tool_name or "")
            arguments.setdefault(index, []).append(piece.text)
    calls = tuple(
        ToolCallText(name=names[index], arguments="".join(arguments[index]))
        for index in sorted(names)
    )
    return Assembled(reasoning="".join(reasoning), content="".join(content), tool_calls=calls)


def coalesce(pieces: Iterable[Piece]) -> list[Piece]:
    """Merge neighbouring pieces of the same kind (and call); drop empty text pieces.

    Empty tool-call pieces are kept: they announce a call before its arguments arrive.
    """
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text and piece.kind != "tool_call":
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind == piece.kind
            and last.tool_index == piece.tool_index
            and piece.text
        ):
            merged[-1] = Piece(last.kind, last.text + piece.text, last.tool_index, last.tool_name)
        else:
            merged.append(piece)
    return merged
