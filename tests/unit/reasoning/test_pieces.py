from __future__ import annotations

from router.reasoning.markers import earliest, partial_suffix
from router.reasoning.pieces import Assembled, Piece, ToolCallText, assemble, coalesce


def test_assemble_joins_per_kind_and_per_call() -> None:
    pieces = [
        Piece("reasoning", "Need "),
        Piece("tool_call", "", 0, "f"),
        Piece("content", "Hi"),
        Piece("tool_call", '{"a"', 0, "f"),
        Piece("reasoning", "tools."),
        Piece("tool_call", "", 1, "g"),
        Piece("tool_call", ": 1}", 0, "f"),
    ]
    assert assemble(pieces) == Assembled(
        reasoning="Need tools.",
        content="Hi",
        tool_calls=(ToolCallText("f", '{"a": 1}'), ToolCallText("g", "")),
    )


def test_coalesce_merges_neighbours_and_keeps_call_announcements() -> None:
    pieces = [
        Piece("content", ""),
        Piece("reasoning", "a"),
        Piece("reasoning", "b"),
        Piece("tool_call", "", 0, "f"),
        Piece("tool_call", "{", 0, "f"),
        Piece("tool_call", "", 1, "g"),
        Piece("content", "c"),
    ]
    assert coalesce(pieces) == [
        Piece("reasoning", "ab"),
        Piece("tool_call", "{", 0, "f"),
        Piece("tool_call", "", 1, "g"),
        Piece("content", "c"),
    ]


def test_markers() -> None:
    assert earliest("x<|end|>y<|start|>", ["<|start|>", "<|end|>"]) == (1, "<|end|>")
    assert earliest("plain", ["<|end|>"]) is None
    assert partial_suffix("answer <|en", ["<|end|>", "<|start|>"]) == 4
    assert partial_suffix("answer <|end|>", ["<|end|>"]) == 0
    assert partial_suffix("assistantfin", ["assistantfinal", "assistantanalysis"]) == 12
