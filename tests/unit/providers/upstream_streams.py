"""What each upstream would have streamed for a recorded JSON answer, in its own wire format.

Used to check that streaming equals non-streaming: the recorded body is cut into the events
the provider documents (OpenAI chat chunks, completion chunks, Anthropic Messages events), with
text split every `size` characters, and the translated stream must assemble into the same answer
as the translated body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

REASONING_KEYS = ("reasoning_content", "reasoning")


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def chat_stream(body: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    """OpenAI-compatible `chat.completion.chunk`s for one `chat.completion` body."""
    frame = {"id": body["id"], "object": "chat.completion.chunk", "created": body["created"]}
    frame["model"] = body["model"]
    for choice in body["choices"]:
        index, message = choice["index"], choice["message"]

        def chunk(delta: dict[str, Any], finish: str | None = None, i: int = index) -> Any:
            return {**frame, "choices": [{"index": i, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        key = next((k for k in REASONING_KEYS if message.get(k)), None)
        if key is not None:
            for part in pieces(message[key], size):
                yield chunk({key: part})
        if message.get("reasoning_details"):
            yield chunk({"reasoning_details": message["reasoning_details"]})
        for part in pieces(message.get("content") or "", size):
            yield chunk({"content": part})
        for position, call in enumerate(message.get("tool_calls") or []):
            function = {"name": call["function"]["name"], "arguments": ""}
            yield chunk({"tool_calls": [{**call, "index": position, "function": function}]})
            for part in pieces(call["function"]["arguments"], size):
                yield chunk({"tool_calls": [{"index": position, "function": {"arguments": part}}]})
        yield chunk({}, choice["finish_reason"])
    if body.get("usage"):
        yield {**frame, "choices": [], "usage": body["usage"]}


def completion_stream(body: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    """Raw completion chunks (`choices[].text`) for one `text_completion` body."""
    frame = {"id": body["id"], "object": "text_completion", "created": body["created"]}
    frame["model"] = body["model"]
    for choice in body["choices"]:
        for part in pieces(choice["text"], size):
            yield {**frame, "choices": [{"index": choice["index"], "text": part}], "usage": None}
        end = {"index": choice["index"], "text": "", "finish_reason": choice["finish_reason"]}
        yield {**frame, "choices": [end], "usage": None}
    yield {**frame, "choices": [], "usage": body.get("usage")}


def _block_events(index: int, block: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    kind = block["type"]
    if kind == "thinking":
        start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
        thoughts = pieces(block["thinking"], size)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in thoughts]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "text":
        start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"], size)]
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        arguments = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces(arguments, size)]
    else:
        start, deltas = dict(block), []
    yield {"type": "content_block_start", "index": index, "content_block": start}
    for delta in deltas:
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    yield {"type": "content_block_stop", "index": index}


def anthropic_stream(body: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    """Messages API events for one Messages response (usage split as the API sends it)."""
    usage = dict(body["usage"])
    start_usage = {**usage, "output_tokens": 1}
    message = {**body, "content": [], "stop_reason": None, "usage": start_usage}
    yield {"type": "message_start", "message": message}
    yield {"type": "ping"}
    for index, block in enumerate(body["content"]):
        yield from _block_events(index, block, size)
    delta = {"stop_reason": body["stop_reason"], "stop_sequence": None}
    final = {"output_tokens": usage["output_tokens"]}
    yield {"type": "message_delta", "delta": delta, "usage": final}
    yield {"type": "message_stop"}


def upstream_stream(body: Mapping[str, Any], size: int) -> list[dict[str, Any]]:
    if body.get("type") == "message":
        return list(anthropic_stream(body, size))
    if body.get("object") == "text_completion":
        return list(completion_stream(body, size))
    return list(chat_stream(body, size))


def assemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What an SDK user accumulates from choice 0 of a stream (tool calls by index)."""
    texts: dict[str, list[str]] = {"content": [], "reasoning_content": [], "reasoning": []}
    details: list[Any] = []
    calls: dict[int, dict[str, Any]] = {}
    finish, usage = None, None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices", []):
            delta = choice.get("delta") or {}
            for key, parts in texts.items():
                if isinstance(delta.get(key), str):
                    parts.append(delta[key])
            details += delta.get("reasoning_details") or []
            for call in delta.get("tool_calls") or []:
                entry = calls.setdefault(call["index"], {"id": None, "name": "", "arguments": ""})
                entry["id"] = call.get("id") or entry["id"]
                function = call.get("function") or {}
                entry["name"] += function.get("name") or ""
                entry["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    out: dict[str, Any] = {key: "".join(parts) for key, parts in texts.items()}
    out["reasoning_details"] = details
    out["tool_calls"] = [calls[i] for i in sorted(calls)]
    out["finish_reason"] = finish
    out["usage"] = usage
    return out


def assembled_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The same view of a non-streamed `chat.completion` (choice 0)."""
    choice = body["choices"][0]
    message = choice["message"]
    out: dict[str, Any] = {key: message.get(key) or "" for key in ("content", *REASONING_KEYS)}
    out["reasoning_details"] = message.get("reasoning_details") or []
    out["tool_calls"] = [
        {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
        for c in message.get("tool_calls") or []
    ]
    out["finish_reason"] = choice["finish_reason"]
    out["usage"] = body.get("usage")
    return out
