"""Move inline ``<think>...</think>`` and ``<thought>...</thought>`` blocks out of ``content``.

Hosts that return raw output (Groq ``reasoning_format: raw``, some Qwen/DeepSeek paths) put the
reasoning inline as ``<think>...</think>``; Gemini's OpenAI-compatible endpoint wraps thought
summaries as ``<thought>...</thought>``.

The rule: only **leading** blocks are reasoning. A block counts when its opening tag is at the
start of the content, after optional whitespace, or directly after an earlier block (again with
only whitespace between). Once any other text has appeared, everything after it is content,
tags included, so an answer that talks about ``<think>`` tags is left alone. Within a block:

* the block ends at the matching closing tag (``</think>`` for ``<think>``, ``</thought>`` for
  ``<thought>``); text after an unclosed tag is all reasoning, to the end;
* whitespace between blocks, and before the first answer text after a block, is dropped, and
  so is a block's own leading and trailing whitespace (a template's ``<think>\n\n</think>``
  with thinking off is no reasoning at all);
* two blocks' reasoning is joined with a newline.

Content with no leading tag passes through unchanged, leading whitespace included.

``starts_in_reasoning=True`` is for templates that put ``<think>`` in the prompt (Qwen3.5 and
later): the output begins inside a block and the first ``</think>`` closes it. A leading
``<think>`` is still accepted as the opening tag.

The streaming splitter holds back only what may still turn into a tag (leading whitespace and a
partial tag); concatenating its pieces per kind always equals the whole-text split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from router.reasoning.markers import partial_suffix
from router.reasoning.pieces import Piece, assemble, coalesce

_TAGS: Final[dict[str, str]] = {"<think>": "</think>", "<thought>": "</thought>"}


@dataclass(frozen=True, slots=True)
class ThinkSplit:
    reasoning: str
    content: str
    found: bool
    """At least one reasoning block was recognised (the implicit one of starts_in_reasoning too)."""
    unclosed: bool
    """The text ended inside a block (reasoning was cut off, or the answer never came)."""


def split_think_tags(text: str, *, starts_in_reasoning: bool = False) -> ThinkSplit:
    splitter = ThinkTagSplitter(starts_in_reasoning=starts_in_reasoning)
    pieces = [*splitter.feed(text), *splitter.finish()]
    assembled = assemble(pieces)
    return ThinkSplit(
        reasoning=assembled.reasoning,
        content=assembled.content,
        found=splitter.found,
        unclosed=splitter.unclosed,
    )


class ThinkTagSplitter:
    """Incremental splitter: ``feed`` each content delta, then ``finish`` once."""

    def __init__(self, *, starts_in_reasoning: bool = False) -> None:
        self._buffer = ""
        self._state = "lead"
        self._close = "</think>"
        self._at_start = True
        self._implicit_open = starts_in_reasoning
        self._emitted_reasoning = False
        self._separator_pending = False
        self._block_start = True
        self.found = False
        self.unclosed = False

    def feed(self, delta: str) -> list[Piece]:
        self._buffer += delta
        return coalesce(self._drain(final=False))

    def finish(self) -> list[Piece]:
        pieces = self._drain(final=True)
        self.unclosed = self._state == "reason"
        return coalesce(pieces)

    def _drain(self, *, final: bool) -> list[Piece]:
        out: list[Piece] = []
        more = True
        while more:
            if self._state == "content":
                out.append(Piece("content", self._buffer))
                self._buffer = ""
                return out
            pieces, more = self._lead(final) if self._state == "lead" else self._reason(final)
            out.extend(pieces)
        return out

    def _lead(self, final: bool) -> tuple[list[Piece], bool]:
        """Decide whether a block opens here; ``False`` in the pair means "wait for more"."""
        stripped = self._buffer.lstrip()
        for opening, closing in _TAGS.items():
            if stripped.startswith(opening):
                self._buffer = stripped[len(opening) :]
                self._open(closing)
                return [], True
        could_be_tag = any(opening.startswith(stripped) for opening in _TAGS)
        if could_be_tag and not final:
            return [], False
        if self._implicit_open:
            self._open("</think>")
            return [], True
        self._state = "content"
        if not self._at_start:
            self._buffer = stripped
        return [], True

    def _open(self, closing: str) -> None:
        self._state = "reason"
        self._close = closing
        self._implicit_open = False
        self._separator_pending = self._emitted_reasoning
        self._block_start = True
        self.found = True

    def _reason(self, final: bool) -> tuple[list[Piece], bool]:
        end = self._buffer.find(self._close)
        if end >= 0:
            text, self._buffer = self._buffer[:end], self._buffer[end + len(self._close) :]
            self._state = "lead"
            self._at_start = False
            return self._reasoning(text.rstrip()), True
        keep = 0 if final else partial_suffix(self._buffer, [self._close])
        text = self._buffer[: len(self._buffer) - keep].rstrip()  # trailing space may end it
        self._buffer = self._buffer[len(text) :]
        return self._reasoning(text), False

    def _reasoning(self, text: str) -> list[Piece]:
        if self._block_start:  # a block's leading whitespace is not reasoning
            text = text.lstrip()
            self._block_start = not text
        if not text:
            return []
        pieces: list[Piece] = []
        if self._separator_pending:
            pieces.append(Piece("reasoning", "\n"))
            self._separator_pending = False
        pieces.append(Piece("reasoning", text))
        self._emitted_reasoning = True
        return pieces
