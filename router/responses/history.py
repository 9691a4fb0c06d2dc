"""A finished answer as the assistant message the next chat turn sends back (pure).

Used where a conversation is continued from stored history: the proxy's own conversations for
chat-only upstreams (router.responses.memory) and the simulator's stored responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.responses.request import reasoning_text


def assistant_turn(message: Mapping[str, Any]) -> dict[str, Any]:
    """A chat answer as the assistant message a later turn sends back: its reasoning only when
    it called tools (a tool loop goes on from that reasoning: Harmony keeps the analysis until
    the final answer, DeepSeek requires it back; each adapter sends it as its host wants)."""
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        out["tool_calls"] = message["tool_calls"]
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out["reasoning_content"] = reasoning
    return out


def output_as_message(output: list[Any]) -> dict[str, Any]:
    """A response's output items as the assistant message a later chat turn sends back."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    thoughts: list[str] = []
    for item in output:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "reasoning":
            thought = reasoning_text(item)
            if thought:
                thoughts.append(thought)
        elif item.get("type") == "message":
            for part in item.get("content") or []:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        elif item.get("type") == "function_call":
            function = {"name": item.get("name"), "arguments": item.get("arguments") or ""}
            calls.append({"id": item.get("call_id"), "type": "function", "function": function})
    reasoning = "\n".join(thoughts) or None
    return assistant_turn(
        {"content": "".join(texts) or None, "tool_calls": calls, "reasoning_content": reasoning}
    )
