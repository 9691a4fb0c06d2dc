"""Anthropic Messages answers as OpenAI chat completions: one body, or a stream of chunks.

Content blocks map to the message: `text` -> `content`; `thinking` -> the reasoning fields, plus
a `reasoning_details` entry holding the text and its `signature` untouched; `redacted_thinking`
-> a `reasoning.encrypted` entry with its `data`; `tool_use` -> `tool_calls` (arguments as JSON
text). A stream emits each thinking block's `reasoning_details` entry once, when the block ends,
so assembling a stream gives the body's list.

Usage keeps Anthropic's own counts (`input_tokens`, `cache_read_input_tokens`,
`cache_creation_input_tokens`, `cache_creation.*`, `output_tokens_details`, ...) next to the
OpenAI ones (`prompt_tokens` = input + cache reads + cache writes,
`prompt_tokens_details.cached_tokens` = reads, `prompt_tokens_details.cache_write_tokens` =
writes). Metering reads the Anthropic counts (the `anthropic` usage convention), which bills cache
writes per TTL; a client reading OpenAI's fields sees consistent totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from router.providers.anthropic_request import ANTHROPIC_FORMAT
from router.providers.openai_reply import REASONING_KEYS, hide_reasoning

FINISH: Final[Mapping[str, str]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _count(usage: Mapping[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def openai_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    prompt = _count(usage, "input_tokens") + read + written
    output = _count(usage, "output_tokens")
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": written},
    }
    details = usage.get("output_tokens_details")
    thinking = details.get("thinking_tokens") if isinstance(details, Mapping) else None
    if isinstance(thinking, int):
        out["completion_tokens_details"] = {"reasoning_tokens": min(thinking, output)}
    out.update({key: value for key, value in usage.items() if key not in out})
    return out


def detail(block: Mapping[str, Any], index: int) -> dict[str, Any] | None:
    """The `reasoning_details` entry for a thinking or redacted-thinking block."""
    if block.get("type") == "thinking":
        return {
            "type": "reasoning.text",
            "text": block.get("thinking") or "",
            "signature": block.get("signature") or "",
            "format": ANTHROPIC_FORMAT,
            "index": index,
        }
    if block.get("type") == "redacted_thinking":
        return {
            "type": "reasoning.encrypted",
            "data": block.get("data") or "",
            "format": ANTHROPIC_FORMAT,
            "index": index,
        }
    return None


def completion(payload: Mapping[str, Any], created: int, show: bool) -> dict[str, Any]:
    """A Messages API response body as a `chat.completion`."""
    texts: list[str] = []
    reasoning: list[str] = []
    details: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    blocks = payload.get("content")
    for block in blocks if isinstance(blocks, list) else []:
        kind = block.get("type") if isinstance(block, Mapping) else None
        entry = detail(block, len(details)) if kind else None
        if entry is not None:
            details.append(entry)
            if kind == "thinking" and block.get("thinking"):
                reasoning.append(block["thinking"])
        elif kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            function = {"name": block.get("name"), "arguments": arguments}
            calls.append({"id": block.get("id"), "type": "function", "function": function})
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
    if calls and not texts:
        message["content"] = None
    if reasoning:
        for key in REASONING_KEYS:
            message[key] = "\n".join(reasoning)
    if details:
        message["reasoning_details"] = details
    if calls:
        message["tool_calls"] = calls
    stop = payload.get("stop_reason")
    out: dict[str, Any] = {
        "id": payload.get("id"),
        "object": "chat.completion",
        "created": created,
        "model": payload.get("model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH.get(stop, "stop") if isinstance(stop, str) else None,
            }
        ],
    }
    usage = payload.get("usage")
    if isinstance(usage, Mapping):
        out["usage"] = openai_usage(usage)
    return out if show else hide_reasoning(out)


class AnthropicStream:
    """`StreamTranslator` for the Messages API's SSE events (no `[DONE]`: `message_stop`)."""

    def __init__(self, show_reasoning: bool, created: int) -> None:
        self.show = show_reasoning
        self.created = created
        self.frame: dict[str, Any] = {}
        self.usage: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.tools: dict[int, int] = {}
        self.details = 0
        self.reasoned = False
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {**self.frame, "choices": [choice]}
        return chunk if self.show else hide_reasoning(chunk)

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "message_start":
            return self._start(event.get("message") or {})
        if kind == "content_block_start":
            return self._block_start(event.get("index", 0), event.get("content_block") or {})
        if kind == "content_block_delta":
            return self._block_delta(event.get("index", 0), event.get("delta") or {})
        if kind == "content_block_stop":
            return self._block_stop(event.get("index", 0))
        if kind == "message_delta":
            return self._message_delta(event)
        if kind == "message_stop":
            self._done = True
            usage = openai_usage(self.usage)
            return [{**self.frame, "choices": [], "usage": usage}]
        if kind == "error":
            self._done = True
            return [{"error": event.get("error") or {"message": "upstream stream error"}}]
        return []

    def finish(self) -> list[dict[str, Any]]:
        return []

    def _start(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.frame = {
            "id": message.get("id"),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": message.get("model"),
        }
        usage = message.get("usage")
        self.usage = dict(usage) if isinstance(usage, Mapping) else {}
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, index: int, block: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.blocks[index] = dict(block)
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if kind == "thinking" and block.get("thinking"):
            return [self._reasoning(block["thinking"])]
        if kind == "tool_use":
            self.tools[index] = position = len(self.tools)
            function = {"name": block.get("name"), "arguments": ""}
            call = {"index": position, "id": block.get("id"), "type": "function"}
            return [self._chunk({"tool_calls": [{**call, "function": function}]})]
        return []

    def _reasoning(self, text: str) -> dict[str, Any]:
        separator = "\n" if self.reasoned else ""
        self.reasoned = False
        return self._chunk({key: separator + text for key in REASONING_KEYS})

    def _block_delta(self, index: int, delta: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = delta.get("type")
        block = self.blocks.setdefault(index, {})
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "thinking_delta" and delta.get("thinking"):
            block["thinking"] = (block.get("thinking") or "") + delta["thinking"]
            return [self._reasoning(delta["thinking"])]
        if kind == "signature_delta":
            block["signature"] = delta.get("signature")
        if kind == "input_json_delta" and delta.get("partial_json") and index in self.tools:
            block["streamed"] = True
            arguments = {"arguments": delta["partial_json"]}
            fragment = {"index": self.tools[index], "function": arguments}
            return [self._chunk({"tool_calls": [fragment]})]
        return []

    def _block_stop(self, index: int) -> list[dict[str, Any]]:
        block = self.blocks.get(index, {})
        if index in self.tools and not block.get("streamed"):
            # A call without arguments streams none (or only empty fragments): its arguments
            # are the empty object, as the JSON answer has them, never "" (which no client
            # can parse).
            fragment = {"index": self.tools[index], "function": {"arguments": "{}"}}
            return [self._chunk({"tool_calls": [fragment]})]
        entry = detail(block, self.details)
        if entry is None:
            return []
        self.details += 1
        if block.get("type") == "thinking" and block.get("thinking"):
            self.reasoned = True
        return [self._chunk({"reasoning_details": [entry]})]

    def _message_delta(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        usage = event.get("usage")
        if isinstance(usage, Mapping):
            self.usage.update({k: v for k, v in usage.items() if v is not None})
        delta = event.get("delta") or {}
        stop = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if not isinstance(stop, str):
            return []
        return [self._chunk({}, FINISH.get(stop, "stop"))]
