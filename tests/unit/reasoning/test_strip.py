from __future__ import annotations

import copy
from typing import Any

import pytest

from router.reasoning.intent import (
    ReasoningIntent,
    normalize_reasoning,
    strip_reasoning_controls,
)
from tests.unit.reasoning.test_intent import (
    DIALECTS,
    assistant,
    chat,
    developer,
    parts,
    system,
    user,
)


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=n) for n, b, e in DIALECTS])
def test_stripped_body_expresses_no_intent_and_input_is_untouched(
    body: dict[str, Any], expected: ReasoningIntent
) -> None:
    before = copy.deepcopy(body)
    stripped = strip_reasoning_controls(body)
    assert body == before
    assert stripped is not body
    assert normalize_reasoning(stripped) == ReasoningIntent()
    if not expected.sources:
        assert stripped == {key: value for key, value in body.items() if value is not None}


def test_top_level_controls_go_and_everything_else_stays() -> None:
    body = chat(
        reasoning_effort="high",
        reasoning={"effort": "high"},
        thinking={"type": "enabled", "budget_tokens": 24576},
        include_reasoning=True,
        temperature=0.2,
        max_tokens=100,
    )
    assert strip_reasoning_controls(body) == chat(temperature=0.2, max_tokens=100)


def test_template_kwargs_keep_their_other_keys() -> None:
    kwargs = {"enable_thinking": False, "thinking": False, "custom": 1}
    assert strip_reasoning_controls(chat(chat_template_kwargs=kwargs)) == chat(
        chat_template_kwargs={"custom": 1}
    )
    assert "chat_template_kwargs" not in strip_reasoning_controls(
        chat(chat_template_kwargs={"enable_thinking": True})
    )


def test_harmony_lines_leave_the_instructions() -> None:
    body = chat(
        system("Reasoning: high"),
        developer("You are terse.\nReasoning: high\nAnswer in French."),
        developer(parts("Reasoning: HIGH", "Use tools.")),
        user("Reasoning: high"),
    )
    assert strip_reasoning_controls(body)["messages"] == [
        developer("You are terse.\nAnswer in French."),
        developer(parts("Use tools.")),
        user("Reasoning: high"),
    ]


def test_prose_lines_stay() -> None:
    body = chat(system("Reasoning: step by step, please"), user("Hi"))
    assert strip_reasoning_controls(body) == body


def test_qwen_switches_leave_the_messages_that_carry_controls() -> None:
    body = chat(
        system("Be brief. /no_think"),
        user("Earlier question /think"),
        assistant("Earlier answer"),
        user(parts("Explain recursion /no_think", "/think")),
    )
    assert strip_reasoning_controls(body)["messages"] == [
        system("Be brief."),
        user("Earlier question /think"),
        assistant("Earlier answer"),
        user(parts("Explain recursion", "")),
    ]


def test_a_user_turn_that_was_only_a_switch_keeps_its_place() -> None:
    body = chat(system("/no_think"), user("/no_think"))
    assert strip_reasoning_controls(body)["messages"] == [user("")]


def test_unchanged_values_are_shared_and_changed_ones_are_new() -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    first = system("Reasoning: low\nBe brief.")
    body = chat(first, user("Hi"), tools=tools)
    stripped = strip_reasoning_controls(body)
    assert stripped["tools"] is tools
    assert stripped["messages"] is not body["messages"]
    assert stripped["messages"][0] is not first
    assert first == system("Reasoning: low\nBe brief.")
