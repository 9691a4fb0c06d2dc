"""Repair Harmony (gpt-oss) markup that a host leaked into ``content``.

Harmony output is a sequence of messages
``<|start|>{role}<|channel|>{channel}[ to={recipient}][ <|constrain|>json]<|message|>{text}<|end|>``
(the first generated message starts at ``<|channel|>``; ``<|return|>`` or ``<|call|>`` ends the
last one). Misconfigured hosts return it inside ``content`` in one of two forms:

* **tokens kept**: the markup as text. Messages are read from it, tolerating a missing
  ``<|start|>`` or ``<|end|>``, a header split over chunks, and truncation anywhere;
* **tokens stripped** (``skip_special_tokens``): ``analysisThe user asks...assistantfinal4``.
  Messages are separated by ``assistant`` glued to a channel name (``assistantfinal``,
  ``assistantanalysis``, ``assistantcommentary``); a recipient reads ``commentary to=functions.f
  json{...}``. A recipient written in the role part cannot be recovered in this form.

Where each message goes: ``analysis`` -> reasoning; ``final`` -> content; ``commentary`` with
no recipient (a preamble meant for the user) -> content; a ``functions.NAME`` recipient -> a tool
call whose arguments are the message text; any other recipient (built-in ``browser.*`` and
``python`` calls) or a message authored by someone other than the assistant -> reasoning, so
nothing is lost and nothing reaches the answer. Messages of one kind are joined by a newline.
A header cut off by the end of the text is dropped; text after a token that cannot be a header
(a line break, or over ``MAX_HEADER`` characters, before ``<|message|>``) stays content.

When the markup is recognised: without a final answer (no ``final`` message, no plain answer
text, no tool call) ``final_missing`` is set; ``content`` then holds only preambles, if any.

Detection is anchored so that ordinary text is never touched:

* tokens: any of the special tokens in the text. Text before the first token is content unless
  it is a bare header (``analysis``, ``assistant``, ``to=...``) followed by a header token;
* stripped: the text (after leading whitespace) starts with a separator (``assistantfinal``,
  ``assistantcommentary``...) or a tool call's header (``commentary to=``), which no prose
  does; or it starts with ``analysis`` glued to a letter or
  digit (``analysisThe``) and later contains one of the stripped separators; only then is it
  reasoning. Until the separator (or a token, or the end) arrives, that text is held back. An
  adapter that knows its upstream serves gpt-oss passes ``known_harmony=True``: a leading
  ``analysis`` then decides at once, which also recovers a stripped output truncated in its
  analysis.

Text without any of this passes through unchanged and ``repaired`` stays false.

Streaming: ``HarmonyStreamRepair`` holds back only what may still turn into a marker (a partial
token or separator, an unfinished header, the undecided start described above). For any split
of a text into chunks, its pieces joined per kind equal ``repair_harmony`` of the whole text,
and no input raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.reasoning.harmony_grammar import (
    ALL_TOKENS,
    CHANNEL,
    CONSTRAIN,
    FUNCTIONS,
    HEADER_TOKENS,
    MAX_HEADER,
    MESSAGE,
    MESSAGE_ENDS,
    SEPARATOR_LIST,
    SEPARATORS,
    START,
    STRIPPED_CALL,
    STRIPPED_STARTS,
    Header,
    headerish,
    parse_header,
    stripped_recipient,
)
from router.reasoning.markers import earliest, partial_suffix
from router.reasoning.pieces import Piece, PieceKind, ToolCallText, assemble, coalesce


@dataclass(frozen=True, slots=True)
class HarmonySplit:
    reasoning: str
    content: str
    tool_calls: tuple[ToolCallText, ...]
    final_missing: bool
    repaired: bool


def repair_harmony(text: str, *, known_harmony: bool = False) -> HarmonySplit:
    repair = HarmonyStreamRepair(known_harmony=known_harmony)
    assembled = assemble([*repair.feed(text), *repair.finish()])
    return HarmonySplit(
        reasoning=assembled.reasoning,
        content=assembled.content,
        tool_calls=assembled.tool_calls,
        final_missing=repair.final_missing,
        repaired=repair.repaired,
    )


class HarmonyStreamRepair:
    """Incremental repair: ``feed`` each content delta, then ``finish`` once."""

    def __init__(self, *, known_harmony: bool = False) -> None:
        self._known = known_harmony
        self._buffer = ""
        self._state = "detect"
        self._header = ""
        self._channel = "analysis"
        self._kind: PieceKind = "content"
        self._tool_index: int | None = None
        self._tool_name: str | None = None
        self._emitted: dict[PieceKind, bool] = {"reasoning": False, "content": False}
        self._separator_pending = False
        self._tools = 0
        self._answered = False
        self._hold_scanned = 0
        self._stripped = False
        self.repaired = False
        self._steps = {
            "detect": self._detect,
            "idle": self._idle,
            "hold": self._hold,
            "header": self._read_header,
            "body": self._body,
            "stripped_header": self._stripped_header,
            "stripped_body": self._stripped_body,
        }

    @property
    def final_missing(self) -> bool:
        return self.repaired and not self._answered and self._tools == 0

    def feed(self, delta: str) -> list[Piece]:
        self._buffer += delta
        return coalesce(self._drain(final=False))

    def finish(self) -> list[Piece]:
        return coalesce(self._drain(final=True))

    def _drain(self, *, final: bool) -> list[Piece]:
        out: list[Piece] = []
        more = True
        while more:
            pieces, more = self._steps[self._state](final)
            out.extend(pieces)
        return out

    # -- deciding what the text is ------------------------------------------------------------

    def _split_first_token(self, final: bool) -> tuple[str, str | None]:
        """Text before the first complete token (less a partial token at the end), and it."""
        found = earliest(self._buffer, ALL_TOKENS)
        if found is not None:
            return self._buffer[: found[0]], found[1]
        keep = 0 if final else partial_suffix(self._buffer, ALL_TOKENS)
        return self._buffer[: len(self._buffer) - keep], None

    def _detect(self, final: bool) -> tuple[list[Piece], bool]:
        before, token = self._split_first_token(final)
        text = before.lstrip()
        maybe_header = headerish(text)
        if token is None and maybe_header and not final:
            return [], False
        if token is not None and not text and token not in HEADER_TOKENS:
            return self._skip_token(before, token), True
        if token in HEADER_TOKENS and maybe_header:
            return self._enter_header(before), True
        if token is None and not final and any(s.startswith(text) for s in STRIPPED_STARTS):
            return [], False  # may still turn into one of them
        if not maybe_header:
            for start, channel in STRIPPED_STARTS.items():
                if text.startswith(start):
                    length = len(start) - (len(" to=") if start == STRIPPED_CALL else 0)
                    return self._enter_stripped(channel, length), True
        if text.startswith("analysis") and not maybe_header:
            if self._known:
                return self._enter_stripped(), True
            if text[len("analysis")].isalnum():
                self._state = "hold"
                return [], True
        self._begin("content", answered=True)
        return [], True

    def _idle(self, final: bool) -> tuple[list[Piece], bool]:
        """Between messages: the text is a header, stray answer text, or a cut-off header."""
        before, token = self._split_first_token(final)
        text = before.lstrip()
        maybe_header = headerish(text)
        if token is None and maybe_header:
            if final:
                self._buffer = ""
            return [], False
        if token is not None and not text and token not in HEADER_TOKENS:
            return self._skip_token(before, token), True
        if token in HEADER_TOKENS and maybe_header:
            return self._enter_header(before), True
        self._buffer = self._buffer.lstrip()
        self._begin("content", answered=True)
        return [], True

    def _hold(self, final: bool) -> tuple[list[Piece], bool]:
        """Text starting ``analysisX``: stripped Harmony once a separator shows, else plain."""
        start = max(0, self._hold_scanned - 32)
        separator = earliest(self._buffer[start:], SEPARATOR_LIST)
        token = earliest(self._buffer[start:], ALL_TOKENS)
        self._hold_scanned = len(self._buffer)
        if separator is not None and (token is None or separator[0] < token[0]):
            return self._enter_stripped(), True
        if token is not None or final:
            self._begin("content", answered=True)
            return [], True
        return [], False

    def _skip_token(self, before: str, token: str) -> list[Piece]:
        """A terminator with nothing before it: markup between messages."""
        self.repaired = True
        self._buffer = self._buffer[len(before) + len(token) :]
        self._state = "idle"
        return []

    def _enter_header(self, before: str) -> list[Piece]:
        self.repaired = True
        self._header = before.lstrip()
        self._buffer = self._buffer[len(before) :]
        self._state = "header"
        return []

    def _enter_stripped(
        self, channel: str = "analysis", length: int = len("analysis")
    ) -> list[Piece]:
        """Stripped markup from here: `length` characters name the first message's channel."""
        self.repaired = self._stripped = True
        self._buffer = self._buffer.lstrip()[length:]
        self._channel = channel
        self._state = "stripped_header"
        return []

    # -- messages -----------------------------------------------------------------------------

    def _begin(self, kind: PieceKind, *, answered: bool, name: str | None = None) -> list[Piece]:
        self._state = "stripped_body" if self._stripped else "body"
        self._kind = kind
        self._answered = self._answered or answered
        if kind == "tool_call":
            self._tool_index, self._tool_name = self._tools, name
            self._tools += 1
            return [Piece("tool_call", "", self._tool_index, name)]
        self._separator_pending = self._emitted[kind]
        return []

    def _begin_message(self, header: Header) -> list[Piece]:
        recipient = header.recipient
        if recipient is not None and recipient.startswith(FUNCTIONS):
            return self._begin("tool_call", answered=False, name=recipient[len(FUNCTIONS) :])
        if header.role != "assistant" or recipient is not None or header.channel == "analysis":
            return self._begin("reasoning", answered=False)
        return self._begin("content", answered=header.channel != "commentary")

    def _emit(self, text: str) -> list[Piece]:
        if not text:
            return []
        if self._kind == "tool_call":
            return [Piece("tool_call", text, self._tool_index, self._tool_name)]
        pieces = [Piece(self._kind, "\n")] if self._separator_pending else []
        self._separator_pending = False
        self._emitted[self._kind] = True
        return [*pieces, Piece(self._kind, text)]

    # -- tokens kept ----------------------------------------------------------------------------

    def _read_header(self, final: bool) -> tuple[list[Piece], bool]:
        before, token = self._split_first_token(final)
        self._header += before
        self._buffer = self._buffer[len(before) :]
        if len(self._header) > MAX_HEADER or "\n" in self._header:
            return self._header_was_text(), True
        if token is None:
            if final:
                self._buffer, self._header = "", ""
            return [], False
        self._buffer = self._buffer[len(token) :]
        if token in (CHANNEL, CONSTRAIN):
            self._header += token
        elif token == START:
            self._header = START
        elif token == MESSAGE:
            header, self._header = parse_header(self._header), ""
            return self._begin_message(header), True
        elif token in MESSAGE_ENDS:
            self._header = ""
            self._state = "idle"
        return [], True

    def _header_was_text(self) -> list[Piece]:
        """Too long, or over a line: this is prose that mentions a token, not a header."""
        text, self._header = self._header, ""
        self._begin("content", answered=True)
        self._separator_pending = False
        return self._emit(text)

    def _body(self, final: bool) -> tuple[list[Piece], bool]:
        before, token = self._split_first_token(final)
        self._buffer = self._buffer[len(before) :]
        pieces = self._emit(before)
        if token is None:
            return pieces, False
        self.repaired = True
        self._buffer = self._buffer[len(token) :]
        if token in MESSAGE_ENDS:
            self._state = "idle"
        elif token in (START, CHANNEL):
            self._header = token
            self._state = "header"
        return pieces, True

    # -- tokens stripped ------------------------------------------------------------------------

    def _stripped_header(self, final: bool) -> tuple[list[Piece], bool]:
        parsed = stripped_recipient(self._buffer, final)
        if parsed is None:
            return [], False
        recipient, consumed = parsed
        self._buffer = self._buffer[consumed:]
        header = Header(role="assistant", channel=self._channel, recipient=recipient)
        return self._begin_message(header), True

    def _stripped_body(self, final: bool) -> tuple[list[Piece], bool]:
        separator = earliest(self._buffer, SEPARATOR_LIST)
        if separator is None:
            keep = 0 if final else partial_suffix(self._buffer, SEPARATOR_LIST)
            text = self._buffer[: len(self._buffer) - keep]
            self._buffer = self._buffer[len(text) :]
            return self._emit(text), False
        index, marker = separator
        pieces = self._emit(self._buffer[:index])
        self._buffer = self._buffer[index + len(marker) :]
        self._channel = SEPARATORS[marker]
        self._state = "stripped_header"
        return pieces, True
