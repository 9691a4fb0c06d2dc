"""Which splitter reads an upstream's `content`: declared by the model entry, or sniffed.

A model's `output_field` says where its reasoning arrives. `think_tags` (`THINK_OPENED` when
the template opens the block) and `harmony` mean inside `content`, so every content delta goes
through `ThinkTagSplitter` or
`HarmonyStreamRepair` (told the upstream serves gpt-oss). Any other field (or none) gets the
`Sniffer`: leaked markup starts at the very beginning of an answer, so it looks only at the
first characters. When they start a `<think>`/`<thought>` tag or Harmony markup (a special token,
or what hosts that strip the tokens leave: `analysis`, `assistantfinal`, a tool call's
`commentary to=`), the matching splitter takes over for the
rest of the choice; otherwise everything passes through untouched at no further cost. It holds
back only leading whitespace and a possible start of a marker.
"""

from __future__ import annotations

from typing import Final, Protocol

from router.reasoning.harmony_grammar import ALL_TOKENS, STRIPPED_STARTS
from router.reasoning.harmony_repair import HarmonyStreamRepair
from router.reasoning.pieces import Piece
from router.reasoning.think_tags import ThinkTagSplitter

THINK_OPENED: Final = "think_tags_opened"
"""think_tags where the chat template opened the block in the prompt: the answer starts inside
it, and the first `</think>` ends it (a leading `<think>` is still taken as the opening)."""
_THINK: Final = ("<think>", "<thought>")
_HARMONY: Final = (*ALL_TOKENS, "analysis", *STRIPPED_STARTS)
_MARKERS: Final = (*_THINK, *_HARMONY)


class Splitter(Protocol):
    def feed(self, delta: str) -> list[Piece]: ...

    def finish(self) -> list[Piece]: ...


def _sniff(head: str) -> str | None:
    """``think``, ``harmony`` or ``plain`` for text starting ``head``; None: undecided yet."""
    if head.startswith(_THINK):
        return "think"
    if head.startswith(_HARMONY):
        return "harmony"
    if any(marker.startswith(head) for marker in _MARKERS):
        return None
    return "plain"


class ContentSplitter:
    """One choice's content: reasoning, answer and recovered tool calls, piece by piece."""

    def __init__(self, output_field: str | None) -> None:
        self._inner: Splitter | None = None
        self._harmony: HarmonyStreamRepair | None = None
        self._held = ""
        self._plain = False
        if output_field == "think_tags":
            self._inner = ThinkTagSplitter()
        elif output_field == THINK_OPENED:
            self._inner = ThinkTagSplitter(starts_in_reasoning=True)
        elif output_field == "harmony":
            self._inner = self._harmony = HarmonyStreamRepair(known_harmony=True)

    @property
    def passthrough(self) -> bool:
        """Decided: plain text, every further delta passes through as it is."""
        return self._plain

    @property
    def final_missing(self) -> bool:
        """Harmony markup was repaired and no final answer (nor tool call) came."""
        return self._harmony is not None and self._harmony.final_missing

    def feed(self, delta: str) -> list[Piece]:
        if self._plain:
            return [Piece("content", delta)]
        if self._inner is not None:
            return self._inner.feed(delta)
        self._held += delta
        kind = _sniff(self._held.lstrip())
        if kind is None or not self._held.strip():
            return []
        held, self._held = self._held, ""
        if kind == "plain":
            self._plain = True
            return [Piece("content", held)]
        if kind == "think":
            self._inner = ThinkTagSplitter()
        else:
            self._inner = self._harmony = HarmonyStreamRepair()
        return self._inner.feed(held)

    def finish(self) -> list[Piece]:
        if self._inner is not None:
            return self._inner.finish()
        held, self._held = self._held, ""
        return [Piece("content", held)] if held else []
