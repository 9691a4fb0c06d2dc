"""A finished answer as the assistant message the next chat turn sends back (pure).

Used where a conversation is continued from stored history: the proxy's own conversations for
chat-only upstreams (router.responses.memory) and the simulator's stored responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def assistant_turn(message: Mapping[str, Any]) -> dict[str, Any]:
    """A chat answer as the assistant message a later turn sends back (no reasoning)."""
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        out["tool_calls"] = message["tool_calls"]
    return out


def output_as_message(output: list[Any]) -> dict[str, Any]:
    """A response's output items as the assistant message a later chat turn sends back."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in output:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        elif item.get("type") == "function_call":
            function = {"name": item.get("name"), "arguments": item.get("arguments") or ""}
            calls.append({"id": item.get("call_id"), "type": "function", "function": function})
    return assistant_turn({"content": "".join(texts) or None, "tool_calls": calls})
