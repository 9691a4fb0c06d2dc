"""OpenAI-shaped answers in, the proxy's reasoning shape out: JSON bodies and stream chunks.

Reasoning text goes out in both `reasoning_content` and `reasoning` (clients differ), whichever
of the two the upstream used, plus what `ContentSplitter` moved out of `content` (inline think
tags, leaked Harmony). Tool calls recovered from leaked Harmony are appended to `tool_calls`
with ids derived from the response id, so a stream and a JSON body name them alike. Opaque
continuity data (`reasoning_details`, ...) is never touched, except that a client that hides
reasoning gets its entries with their text and summary emptied (signatures and encrypted data
stay, as Anthropic's own `display: omitted` answers have them).

A body or chunk with no reasoning anywhere and plain content comes back as the very same object
(`is` identity), so the caller can relay the upstream's bytes unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from router.providers.content import ContentSplitter
from router.reasoning.pieces import Piece

REASONING_KEYS: Final = ("reasoning_content", "reasoning")
FRAME_KEYS: Final = ("id", "object", "created", "model")
SILENT: Final[dict[str, Any]] = {}
"""A choice left with nothing to say (all its text held back): not sent."""


def is_empty(delta: Mapping[str, Any]) -> bool:
    """A delta that says nothing (every value empty): its chunk need not be sent."""
    return all(value in ("", None) for value in delta.values())


def call_id(seed: str, index: int) -> str:
    """A tool-call id for a call recovered from text: the same for a stream and a body."""
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=12).hexdigest()
    return f"call_{digest}"


def _reasoning_text(message: Mapping[str, Any], preferred: str) -> str:
    for key in (preferred, *REASONING_KEYS):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


class ChoiceState:
    """One choice of one answer: its content splitter and the tool calls it recovered."""

    def __init__(self, output_field: str | None, seed: str) -> None:
        self.splitter = ContentSplitter(output_field)
        self.preferred = "reasoning" if output_field == "reasoning" else "reasoning_content"
        self.seed = seed
        self.next_tool = 0
        self.recovered: dict[int, int] = {}
        self.finished = False

    def translate(self, message: Mapping[str, Any], *, last: bool) -> dict[str, Any] | None:
        """The message (or delta) rewritten, or None when it needs no change."""
        reasoning = _reasoning_text(message, self.preferred)
        content = message.get("content")
        pieces = self.splitter.feed(content) if isinstance(content, str) and content else []
        if last:
            pieces += self.splitter.finish()
            self.finished = True
        self._count_upstream_tools(message.get("tool_calls"))
        if isinstance(content, str) and content:
            untouched = pieces == [Piece("content", content)]
        else:
            untouched = not pieces
        if not reasoning and untouched:
            return None
        out = dict(message)
        texts = [piece.text for piece in pieces if piece.kind == "reasoning"]
        reasoning += "".join(texts)
        if reasoning:
            for key in REASONING_KEYS:
                out[key] = reasoning
        answer = "".join(piece.text for piece in pieces if piece.kind == "content")
        if isinstance(content, str) or answer:
            out["content"] = answer
        calls = self._tool_deltas(piece for piece in pieces if piece.kind == "tool_call")
        if calls:
            out["tool_calls"] = [*(message.get("tool_calls") or []), *calls]
        if out.get("content") == "" and content and out.get("tool_calls"):
            out["content"] = None  # only reasoning was there: a tool call's content is null
        return out

    def plain(self, delta: Mapping[str, Any]) -> bool:
        """The fast path: the content was decided plain and this delta carries no reasoning."""
        return self.splitter.passthrough and not any(delta.get(key) for key in REASONING_KEYS)

    def finish_reason(self, upstream: Any) -> Any:
        if self.recovered and upstream in (None, "stop"):
            return "tool_calls"
        if self.splitter.final_missing and upstream == "stop":
            return "length"
        return upstream

    def _count_upstream_tools(self, calls: Any) -> None:
        if not isinstance(calls, list):
            return
        for position, call in enumerate(calls):
            index = call.get("index", position) if isinstance(call, Mapping) else position
            if isinstance(index, int):
                self.next_tool = max(self.next_tool, index + 1)

    def _tool_deltas(self, pieces: Iterable[Piece]) -> list[dict[str, Any]]:
        deltas: list[dict[str, Any]] = []
        for piece in pieces:
            key = piece.tool_index or 0
            if key not in self.recovered:
                self.recovered[key] = index = self.next_tool
                self.next_tool += 1
                function = {"name": piece.tool_name or "", "arguments": ""}
                deltas.append(
                    {
                        "index": index,
                        "id": call_id(self.seed, index),
                        "type": "function",
                        "function": function,
                    }
                )
            if piece.text:
                deltas.append({"index": self.recovered[key], "function": {"arguments": piece.text}})
        return deltas


def merge_tool_deltas(deltas: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Whole tool calls from streamed fragments (by `index`, arguments concatenated)."""
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        index = delta.get("index", len(calls))
        function = delta.get("function") or {}
        call = calls.get(index)
        if call is None:
            call = calls[index] = {
                "id": delta.get("id"),
                "type": delta.get("type", "function"),
                "function": {"name": function.get("name", ""), "arguments": ""},
            }
        call["function"]["arguments"] += function.get("arguments") or ""
    return [calls[index] for index in sorted(calls)]


def hide_reasoning(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without reasoning text in any choice's message or delta (itself if none had)."""
    choices = obj.get("choices")
    if not isinstance(choices, list):
        return obj
    changed = False
    out_choices = []
    for choice in choices:
        part = "message" if isinstance(choice, Mapping) and "message" in choice else "delta"
        inner = choice.get(part) if isinstance(choice, Mapping) else None
        if isinstance(inner, Mapping) and any(key in inner for key in REASONING_KEYS):
            inner = {k: v for k, v in inner.items() if k not in REASONING_KEYS}
            choice = {**choice, part: inner}
            changed = True
        details = inner.get("reasoning_details") if isinstance(inner, Mapping) else None
        if isinstance(details, list) and any(_readable(d) for d in details):
            kept = [_unreadable(d) for d in details]
            choice = {**choice, part: {**inner, "reasoning_details": kept}}  # type: ignore[dict-item]
            changed = True
        out_choices.append(choice)
    return {**obj, "choices": out_choices} if changed else obj


READABLE_DETAIL_KEYS: Final = ("text", "summary")
"""What a `reasoning_details` entry says in plain words; its signature, format, id and
encrypted data stay, so a later turn can still hand the block back."""


def _readable(detail: object) -> bool:
    return isinstance(detail, Mapping) and any(detail.get(key) for key in READABLE_DETAIL_KEYS)


def _unreadable(detail: object) -> object:
    if not _readable(detail):
        return detail
    assert isinstance(detail, Mapping)
    return {k: ("" if k in READABLE_DETAIL_KEYS else v) for k, v in detail.items()}


def parse_chat_response(
    payload: dict[str, Any], output_field: str | None, show_reasoning: bool
) -> dict[str, Any]:
    """A `chat.completion` body in the proxy's shape (``payload`` itself when unchanged)."""
    choices = payload.get("choices")
    if not isinstance(choices, list):
        return payload
    seed = str(payload.get("id", ""))
    new: list[Any] | None = None
    for position, choice in enumerate(choices):
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if not isinstance(message, Mapping):
            continue
        index = choice.get("index", position)
        state = ChoiceState(output_field, f"{seed}:{index}")
        translated = state.translate(message, last=True)
        if translated is not None:
            translated = whole_calls(translated, message)
        finish = state.finish_reason(choice.get("finish_reason"))
        if translated is None and finish == choice.get("finish_reason"):
            continue
        new = new if new is not None else list(choices)
        new[position] = {**choice, "message": translated or message, "finish_reason": finish}
        if translated is not None and "logprobs" in choice:
            raw, kept = message.get("content"), translated.get("content")
            new[position]["logprobs"] = logprobs_of(choice["logprobs"], raw, kept)
    out = payload if new is None else {**payload, "choices": new}
    return out if show_reasoning else hide_reasoning(out)  # reasoning_details alone too


def logprobs_of(logprobs: Any, raw: object, kept: object) -> Any:
    """The logprobs of the content that was kept when markup or reasoning left `raw`: the last
    tokens, when their text makes up `kept` exactly; none when they do not line up (a token of
    reasoning or markup must never reach a client that sees neither)."""
    tokens = logprobs.get("content") if isinstance(logprobs, Mapping) else None
    if not isinstance(tokens, list) or raw == kept:
        return logprobs
    text = ""
    for start in range(len(tokens) - 1, -1, -1):
        token = tokens[start].get("token") if isinstance(tokens[start], Mapping) else None
        if not isinstance(token, str) or not isinstance(kept, str) or not kept:
            break
        text = token + text
        if text == kept:
            return {**logprobs, "content": tokens[start:]}
        if len(text) >= len(kept):
            break
    return {**logprobs, "content": []}


def whole_calls(message: dict[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list) or calls is original.get("tool_calls"):
        return message
    kept = list(original.get("tool_calls") or [])
    recovered = merge_tool_deltas(calls[len(kept) :])
    return {**message, "tool_calls": [*kept, *recovered]}


class ChatStream:
    """`StreamTranslator` for upstreams that stream OpenAI `chat.completion.chunk`s."""

    def __init__(self, output_field: str | None, show_reasoning: bool) -> None:
        self.output_field = output_field
        self.show = show_reasoning
        self.states: dict[int, ChoiceState] = {}
        self.frame: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        return False

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        chunk = dict(event) if not isinstance(event, dict) else event
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices:
            return [chunk]
        if not self.frame:
            self.frame = {k: chunk[k] for k in FRAME_KEYS if k in chunk}
        new: list[Any] | None = None
        for position, choice in enumerate(choices):
            if not isinstance(choice, Mapping):
                continue
            replaced = self._choice(choice, position)
            if replaced is not None:
                new = new if new is not None else list(choices)
                new[position] = replaced
        if new is None:
            return [chunk if self.show else hide_reasoning(chunk)]  # reasoning_details alone
        new = [choice for choice in new if choice is not SILENT]
        if not new and chunk.get("usage") is None:
            return []
        out = {**chunk, "choices": new}
        return [out if self.show else hide_reasoning(out)]

    def _choice(self, choice: Mapping[str, Any], position: int) -> dict[str, Any] | None:
        """The choice rewritten, None when unchanged, `SILENT` when it now says nothing."""
        index = choice.get("index", position)
        state = self.states.get(index)
        if state is None:
            seed = f"{self.frame.get('id', '')}:{index}"
            state = self.states[index] = ChoiceState(self.output_field, seed)
        delta = choice.get("delta")
        delta = delta if isinstance(delta, Mapping) else {}
        upstream_finish = choice.get("finish_reason")
        if state.finished or (upstream_finish is None and state.plain(delta)):
            return None
        last = upstream_finish is not None
        translated = state.translate(delta, last=last)
        finish = state.finish_reason(upstream_finish) if last else upstream_finish
        if translated is None and finish == upstream_finish:
            return None
        if translated is not None and finish is None and is_empty(translated):
            return SILENT
        out = {**choice, "delta": translated or dict(delta), "finish_reason": finish}
        if translated is not None and choice.get("logprobs") is not None:
            raw, kept = delta.get("content"), translated.get("content")
            out["logprobs"] = logprobs_of(choice["logprobs"], raw, kept)
        return out

    def finish(self) -> list[dict[str, Any]]:
        """Text still held back by a choice whose stream never finished."""
        choices = []
        for index, state in self.states.items():
            if state.finished:
                continue
            translated = state.translate({}, last=True)
            if translated:
                choices.append({"index": index, "delta": translated, "finish_reason": None})
        if not choices:
            return []
        out = {**self.frame, "object": "chat.completion.chunk", "choices": choices}
        return [out if self.show else hide_reasoning(out)]
