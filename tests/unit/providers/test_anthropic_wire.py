"""Requests the Messages API would refuse are shaped so it takes them, or refused here with a
400 naming the field, and answers read back as OpenAI's: a tool loop whose assistant turn lost
its thinking blocks, sampling outside Anthropic's rules, empty turns, system images, tool
arguments that are not an object, a tool_choice among no tools, a streamed call without
arguments."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from router.config.load import ModelSpec
from router.errors import InvalidRequest, UnsupportedParameter
from router.providers.anthropic import AnthropicAdapter
from router.providers.anthropic_reply import AnthropicStream
from router.reasoning.intent import ReasoningIntent, normalize_reasoning
from tests.unit.providers.catalog import catalog

HIGH = ReasoningIntent(effort="high", enabled=True, sources=("reasoning_effort",))
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
CALL = {"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
SIGNED = {"type": "reasoning.text", "text": "why", "signature": "sig", "format": None}


def manual() -> ModelSpec:
    return next(
        m
        for m in catalog().values()
        if m.provider.dialect == "anthropic" and m.reasoning and not m.reasoning.adaptive_only
    )


def build(body: dict[str, Any], intent: ReasoningIntent | None = None) -> Any:
    full = {"model": "x", **body}
    return AnthropicAdapter().build(full, manual(), intent or normalize_reasoning(full), False)


def loop(assistant: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": None, "tool_calls": [CALL], **assistant},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "42"},
    ]


def test_a_tool_loop_without_its_thinking_blocks_goes_on_without_thinking() -> None:
    bare = build({"messages": loop({"reasoning_content": "why"}), "tools": TOOLS}, HIGH)
    assert "thinking" not in bare.body
    assert "reasoning_effort" in bare.report.dropped
    assert bare.report.effort is None or bare.report.effort.sent == "none"
    kept = build({"messages": loop({"reasoning_details": [SIGNED]}), "tools": TOOLS}, HIGH)
    assert kept.body["thinking"]["type"] == "enabled"
    assert kept.body["messages"][1]["content"][0]["type"] == "thinking"
    new_turn = [*loop({}), {"role": "user", "content": "and now?"}]
    fresh = build({"messages": new_turn, "tools": TOOLS}, HIGH)
    assert fresh.body["thinking"]["type"] == "enabled"  # a new turn needs no earlier thinking


def test_a_cap_with_no_room_for_thinking_keeps_the_clients_sampling() -> None:
    ask = [{"role": "user", "content": "hi"}]
    small = build({"messages": ask, "max_tokens": 600, "temperature": 0.3}, HIGH)
    assert "thinking" not in small.body and small.body["temperature"] == 0.3
    assert small.body["max_tokens"] == 600
    assert small.report.dropped == ["reasoning_effort"]
    assert small.report.effort is None or small.report.effort.sent == "none"
    roomy = build({"messages": ask, "max_completion_tokens": 4000, "temperature": 0.3}, HIGH)
    assert roomy.body["thinking"]["type"] == "enabled" and "temperature" not in roomy.body


def test_temperature_above_one_is_lowered_and_top_p_goes_beside_it() -> None:
    ask = [{"role": "user", "content": "hi"}]
    call = build({"messages": ask, "temperature": 1.5, "top_p": 0.9})
    assert call.body["temperature"] == 1 and "top_p" not in call.body
    assert ("temperature", 1) in call.report.clamped and "top_p" in call.report.dropped
    alone = build({"messages": ask, "top_p": 0.9})
    assert alone.body["top_p"] == 0.9 and not alone.report.dropped


def test_empty_turns_are_left_out_and_nothing_at_all_is_a_400() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "b"},
    ]
    sent = build({"messages": messages}).body["messages"]
    assert sent == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]
    with pytest.raises(InvalidRequest) as empty:
        build({"messages": [{"role": "user", "content": ""}]})
    assert empty.value.param == "messages"


def test_an_image_in_a_system_message_is_a_400_naming_it() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    system = {"role": "system", "content": [{"type": "text", "text": "be brief"}, image]}
    with pytest.raises(UnsupportedParameter) as refused:
        build({"messages": [system, {"role": "user", "content": "hi"}]})
    assert refused.value.param == "messages[0].content[1]"


@pytest.mark.parametrize("arguments", ["[1, 2]", "7", "not json"])
def test_tool_arguments_must_be_an_object(arguments: str) -> None:
    call = {**CALL, "function": {"name": "lookup", "arguments": arguments}}
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}]
    with pytest.raises(InvalidRequest) as refused:
        build({"messages": messages, "tools": TOOLS})
    assert refused.value.param == "messages[1].tool_calls[0].function"


def test_a_tool_choice_among_no_tools() -> None:
    ask = [{"role": "user", "content": "hi"}]
    for choice in ("auto", "none"):
        assert "tool_choice" not in build({"messages": ask, "tool_choice": choice}).body
    assert "tool_choice" not in build({"messages": ask, "parallel_tool_calls": False}).body
    with pytest.raises(InvalidRequest) as refused:
        build({"messages": ask, "tool_choice": "required"})
    assert refused.value.param == "tool_choice"


def test_a_streamed_call_without_arguments_has_the_empty_object() -> None:
    stream = AnthropicStream(True, 0)
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "m", "model": "c", "usage": {}}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t1", "name": "noargs", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}},
        {"type": "message_stop"},
    ]
    arguments = ""
    for event in events:
        for chunk in stream.feed(event):
            for choice in chunk["choices"]:
                for call in choice["delta"].get("tool_calls") or []:
                    arguments += call["function"].get("arguments") or ""
    assert orjson.loads(arguments) == {}
