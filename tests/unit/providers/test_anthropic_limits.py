"""What the Messages API refuses is never sent (reference 2.3): a forced tool_choice with
thinking on (thinking goes off where the model can switch it off, else the choice becomes
auto), a max_tokens above the model's output limit (lowered); each is reported."""

from __future__ import annotations

from typing import Any

import pytest

from router.errors import UnsupportedParameter
from router.providers.anthropic import AnthropicAdapter
from router.reasoning.intent import ReasoningIntent
from tests.unit.providers.catalog import catalog

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
HIGH = ReasoningIntent(effort="high", enabled=True, sources=("reasoning_effort",))


def body(choice: Any) -> dict[str, Any]:
    return {
        "model": "x",
        "messages": [{"role": "user", "content": "look it up"}],
        "tools": TOOLS,
        "tool_choice": choice,
        "max_tokens": 20000,
    }


@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "function": {"name": "lookup"}}]
)
def test_a_forced_tool_turns_thinking_off(choice: Any) -> None:
    model = next(
        m
        for m in catalog().values()
        if m.provider.dialect == "anthropic" and m.reasoning and not m.reasoning.adaptive_only
    )
    call = AnthropicAdapter().build(body(choice), model, HIGH, False)
    assert "thinking" not in call.body and call.body["tool_choice"]["type"] in ("any", "tool")
    assert "reasoning_effort" in call.report.dropped
    assert call.report.effort is None or call.report.effort.sent == "none"


def test_auto_keeps_thinking_and_strict_refuses_the_pair() -> None:
    model = next(
        m
        for m in catalog().values()
        if m.provider.dialect == "anthropic" and m.reasoning and not m.reasoning.adaptive_only
    )
    call = AnthropicAdapter().build(body("auto"), model, HIGH, False)
    assert call.body["thinking"]["type"] == "enabled"
    with pytest.raises(UnsupportedParameter):
        AnthropicAdapter().build(body("required"), model, HIGH, True)


def test_a_max_tokens_above_the_models_limit_is_lowered_and_reported() -> None:
    model = next(
        m
        for m in catalog().values()
        if m.provider.dialect == "anthropic" and m.reasoning and m.reasoning.max_output_tokens
    )
    limit = model.reasoning.max_output_tokens if model.reasoning else None
    assert limit is not None
    asked = {**body("auto"), "max_tokens": limit + 10_000}
    call = AnthropicAdapter().build(asked, model, HIGH, False)
    assert call.body["max_tokens"] == limit
    assert call.body["thinking"]["budget_tokens"] < limit
    assert ("max_tokens", limit) in call.report.clamped
