"""What Groq, Gemini and Ollama refuse is not sent, what they bill is counted, and hidden
reasoning stays hidden whatever shape it came in."""

from __future__ import annotations

from typing import Any

import pytest

from router.metering.usage import parse_usage
from router.providers.openai_reply import ChatStream, parse_chat_response
from router.providers.registry import adapter_for
from router.reasoning.intent import normalize_reasoning
from tests.unit.providers.catalog import catalog

ASK = [{"role": "user", "content": "hi"}]


def build(model: str, body: dict[str, Any]) -> Any:
    spec = catalog()[model]
    full = {"model": "x", "messages": ASK, **body}
    return adapter_for(spec.provider.dialect).build(full, spec, normalize_reasoning(full), False)


def test_groq_sends_no_reasoning_format_to_gpt_oss_and_no_history_reasoning() -> None:
    gpt_oss = build("gpt-oss-120b@groq", {"reasoning_effort": "high"}).body
    assert "reasoning_format" not in gpt_oss and gpt_oss["reasoning_effort"] == "high"
    assert build("qwen3@groq", {}).body["reasoning_format"] == "parsed"
    history = [
        *ASK,
        {"role": "assistant", "content": "Hello", "reasoning": "r", "reasoning_content": "r"},
        *ASK,
    ]
    sent = build("gpt-oss-120b@groq", {"messages": history}).body["messages"][1]
    assert sent == {"role": "assistant", "content": "Hello"}


def test_gemini_drops_the_stored_completion_fields() -> None:
    call = build("gemini-2.5-flash", {"store": True, "metadata": {"k": "v"}})
    assert "store" not in call.body and "metadata" not in call.body
    assert sorted(call.report.dropped) == ["metadata", "store"]
    quiet = build("gemini-2.5-flash", {"store": False, "metadata": {}})
    assert "store" not in quiet.body and not quiet.report.dropped


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        ({"reasoning_effort": "high"}, None),  # thinking on is the model's default: nothing
        ({"reasoning_effort": "none"}, "none"),
    ],
)
def test_ollama_switch_models_get_on_or_off_only(body: dict[str, Any], sent: str | None) -> None:
    assert build("qwen3@ollama", body).body.get("reasoning_effort") == sent


SECRET = {"type": "reasoning.text", "text": "secret thoughts", "signature": "s", "format": "x"}


def test_hidden_reasoning_details_are_emptied_when_they_come_alone() -> None:
    message = {"role": "assistant", "content": "Hi", "reasoning_details": [SECRET]}
    payload = {"id": "c", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    hidden = parse_chat_response(payload, "reasoning", False)
    [detail] = hidden["choices"][0]["message"]["reasoning_details"]
    assert detail["text"] == "" and detail["signature"] == "s"
    assert parse_chat_response(payload, "reasoning", True) is payload
    delta = {"reasoning": None, "reasoning_details": [SECRET]}
    chunk = {"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    [out] = ChatStream("reasoning", False).feed(chunk)
    assert out["choices"][0]["delta"]["reasoning_details"][0]["text"] == ""


def test_gemini_thoughts_left_out_of_completion_tokens_are_billed_as_reasoning() -> None:
    usage = parse_usage(
        "gemini_openai", {"prompt_tokens": 41, "completion_tokens": 9, "total_tokens": 448}
    )
    assert (usage.reasoning_output, usage.visible_output) == (398, 9)
    exact = parse_usage(
        "gemini_openai", {"prompt_tokens": 41, "completion_tokens": 9, "total_tokens": 50}
    )
    assert (exact.reasoning_output, exact.visible_output) == (0, 9)


CALL = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}


def test_deepseek_keeps_the_reasoning_of_a_tool_turn_and_takes_levels_where_declared() -> None:
    import dataclasses

    history = [
        *ASK,
        {"role": "assistant", "content": "", "reasoning_content": "call it", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "c1", "content": "15C"},
        {"role": "assistant", "content": "15C.", "reasoning_content": "done"},
        *ASK,
    ]
    legacy = catalog()["deepseek-reasoner"]
    adapter = adapter_for("deepseek")
    body = {"model": "x", "messages": history, "reasoning_effort": "max"}
    call = adapter.build(body, legacy, normalize_reasoning(body), False)
    kept = [m.get("reasoning_content") for m in call.body["messages"]]
    assert kept == [None, "call it", None, None, None]
    assert "reasoning_effort" not in call.body and "reasoning_effort" in call.report.dropped
    assert legacy.reasoning is not None
    levels = dataclasses.replace(legacy.reasoning, efforts=("low", "high", "max"), can_disable=True)
    current = dataclasses.replace(legacy, reasoning=levels)
    assert (
        adapter.build(body, current, normalize_reasoning(body), False).body["reasoning_effort"]
        == "max"
    )
    off = {**body, "reasoning_effort": "none"}
    assert adapter.build(off, current, normalize_reasoning(off), False).body["thinking"] == {
        "type": "disabled"
    }


def test_a_tool_call_whose_content_was_all_reasoning_has_null_content() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    message = {"role": "assistant", "content": "<think>look it up</think>", "tool_calls": [call]}
    payload = {
        "id": "x",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
    }
    out = parse_chat_response(payload, "think_tags", True)["choices"][0]["message"]
    assert out["content"] is None and out["reasoning_content"] == "look it up"
    plain = {"role": "assistant", "content": "<think>why</think>"}
    payload = {"id": "x", "choices": [{"index": 0, "message": plain, "finish_reason": "length"}]}
    assert (
        parse_chat_response(payload, "think_tags", True)["choices"][0]["message"]["content"] == ""
    )
