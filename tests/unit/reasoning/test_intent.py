from __future__ import annotations

import copy
from typing import Any

import pytest

from router.errors import InvalidReasoning, InvalidRequest
from router.reasoning.effort import Effort
from router.reasoning.intent import ReasoningIntent, normalize_reasoning


def system(text: Any) -> dict[str, Any]:
    return {"role": "system", "content": text}


def developer(text: Any) -> dict[str, Any]:
    return {"role": "developer", "content": text}


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def parts(*texts: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text} for text in texts]


def chat(*messages: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"model": "m", "messages": list(messages or [user("Hi")]), **params}


OFF = ReasoningIntent(effort="none", enabled=False)

# (body, expected intent) for every dialect, alone and in agreeing combinations.
DIALECTS: list[tuple[str, dict[str, Any], ReasoningIntent]] = [
    ("nothing", chat(), ReasoningIntent()),
    (
        "nulls are absent",
        chat(reasoning_effort=None, reasoning=None, thinking=None),
        ReasoningIntent(),
    ),
    (
        "reasoning_effort",
        chat(reasoning_effort="high"),
        ReasoningIntent(effort="high", enabled=True, sources=("reasoning_effort",)),
    ),
    (
        "reasoning_effort none",
        chat(reasoning_effort="none"),
        ReasoningIntent(effort="none", enabled=False, sources=("reasoning_effort",)),
    ),
    (
        "openrouter effort",
        chat(reasoning={"effort": "xhigh"}),
        ReasoningIntent(effort="xhigh", enabled=True, sources=("reasoning.effort",)),
    ),
    (
        "openrouter max_tokens",
        chat(reasoning={"max_tokens": 2048}),
        ReasoningIntent(budget_tokens=2048, enabled=True, sources=("reasoning.max_tokens",)),
    ),
    (
        "openrouter enabled",
        chat(reasoning={"enabled": True}),
        ReasoningIntent(enabled=True, sources=("reasoning.enabled",)),
    ),
    (
        "openrouter disabled",
        chat(reasoning={"enabled": False}),
        ReasoningIntent(effort="none", enabled=False, sources=("reasoning.enabled",)),
    ),
    (
        "openrouter exclude",
        chat(reasoning={"effort": "low", "exclude": True}),
        ReasoningIntent(
            effort="low",
            enabled=True,
            show=False,
            sources=("reasoning.effort", "reasoning.exclude"),
        ),
    ),
    (
        "openrouter exclude false",
        chat(reasoning={"exclude": False}),
        ReasoningIntent(sources=("reasoning.exclude",)),
    ),
    (
        "anthropic enabled with budget",
        chat(thinking={"type": "enabled", "budget_tokens": 4096}),
        ReasoningIntent(
            budget_tokens=4096,
            enabled=True,
            sources=("thinking.type", "thinking.budget_tokens"),
        ),
    ),
    (
        "anthropic adaptive",
        chat(thinking={"type": "adaptive"}),
        ReasoningIntent(enabled=True, sources=("thinking.type",)),
    ),
    (
        "anthropic disabled",
        chat(thinking={"type": "disabled"}),
        ReasoningIntent(effort="none", enabled=False, sources=("thinking.type",)),
    ),
    (
        "anthropic display omitted",
        chat(thinking={"type": "adaptive", "display": "omitted"}),
        ReasoningIntent(enabled=True, show=False, sources=("thinking.type", "thinking.display")),
    ),
    (
        "include_reasoning false",
        chat(include_reasoning=False),
        ReasoningIntent(show=False, sources=("include_reasoning",)),
    ),
    (
        "qwen enable_thinking false",
        chat(chat_template_kwargs={"enable_thinking": False, "custom": 1}),
        ReasoningIntent(
            effort="none", enabled=False, sources=("chat_template_kwargs.enable_thinking",)
        ),
    ),
    (
        "deepseek thinking true",
        chat(chat_template_kwargs={"thinking": True}),
        ReasoningIntent(enabled=True, sources=("chat_template_kwargs.thinking",)),
    ),
    (
        "harmony line in system",
        chat(system("You are terse.\nReasoning: high\n"), user("Hi")),
        ReasoningIntent(effort="high", enabled=True, sources=("messages[0].content",)),
    ),
    (
        "harmony line in developer parts, any case",
        chat(developer(parts("Be brief.", "  reasoning:  LOW ")), user("Hi")),
        ReasoningIntent(effort="low", enabled=True, sources=("messages[0].content[1].text",)),
    ),
    (
        "harmony line with a value off the ladder is prose",
        chat(system("Reasoning: careful and explicit"), user("Hi")),
        ReasoningIntent(),
    ),
    (
        "harmony line mid-sentence is prose",
        chat(system("Use this format. Reasoning: high"), user("Hi")),
        ReasoningIntent(),
    ),
    ("harmony line in a user message is prose", chat(user("Reasoning: high")), ReasoningIntent()),
    (
        "qwen /no_think in the last user message",
        chat(user("Explain recursion /no_think")),
        ReasoningIntent(effort="none", enabled=False, sources=("messages[0].content",)),
    ),
    (
        "qwen /think in user parts",
        chat(system("x"), user(parts("/think", "Explain recursion"))),
        ReasoningIntent(enabled=True, sources=("messages[1].content[0].text",)),
    ),
    (
        "qwen: the last user message overrides the system message",
        chat(system("Be brief. /no_think"), user("Explain /think")),
        ReasoningIntent(enabled=True, sources=("messages[1].content",)),
    ),
    (
        "qwen: the last switch in a message wins",
        chat(user("/no_think actually /think")),
        ReasoningIntent(enabled=True, sources=("messages[0].content",)),
    ),
    (
        "qwen: system switch applies when the user says nothing",
        chat(system("/no_think"), user("Hi"), assistant("Hello"), user("More")),
        ReasoningIntent(effort="none", enabled=False, sources=("messages[0].content",)),
    ),
    (
        "qwen: an earlier user turn is history",
        chat(user("Hi /no_think"), assistant("Hello"), user("More")),
        ReasoningIntent(),
    ),
    (
        "qwen: slash words inside paths and longer words are not switches",
        chat(user("See https://x.org/think and /thinking or a/no_think")),
        ReasoningIntent(),
    ),
    (
        "agreeing efforts",
        chat(reasoning_effort="high", reasoning={"effort": "high"}),
        ReasoningIntent(
            effort="high", enabled=True, sources=("reasoning_effort", "reasoning.effort")
        ),
    ),
    (
        "effort and a budget that maps to it",
        chat(reasoning_effort="low", thinking={"type": "enabled", "budget_tokens": 1024}),
        ReasoningIntent(
            effort="low",
            budget_tokens=1024,
            enabled=True,
            sources=("reasoning_effort", "thinking.type", "thinking.budget_tokens"),
        ),
    ),
    (
        "effort with a bare on switch",
        chat(reasoning_effort="medium", chat_template_kwargs={"enable_thinking": True}),
        ReasoningIntent(
            effort="medium",
            enabled=True,
            sources=("reasoning_effort", "chat_template_kwargs.enable_thinking"),
        ),
    ),
    (
        "every way of saying off",
        chat(
            system("Reasoning: none"),
            user("Hi /no_think"),
            reasoning_effort="none",
            reasoning={"enabled": False},
            thinking={"type": "disabled"},
            chat_template_kwargs={"enable_thinking": False, "thinking": False},
        ),
        ReasoningIntent(
            effort="none",
            enabled=False,
            sources=(
                "reasoning_effort",
                "reasoning.enabled",
                "thinking.type",
                "chat_template_kwargs.enable_thinking",
                "chat_template_kwargs.thinking",
                "messages[0].content",
                "messages[1].content",
            ),
        ),
    ),
    (
        "hidden twice",
        chat(reasoning={"exclude": True}, include_reasoning=False),
        ReasoningIntent(show=False, sources=("reasoning.exclude", "include_reasoning")),
    ),
]


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=n) for n, b, e in DIALECTS])
def test_every_dialect(body: dict[str, Any], expected: ReasoningIntent) -> None:
    before = copy.deepcopy(body)
    assert normalize_reasoning(body) == expected
    assert body == before


def test_resolved_effort() -> None:
    assert ReasoningIntent().resolved_effort() is None
    assert OFF.resolved_effort() == "none"
    assert ReasoningIntent(enabled=True).resolved_effort() == "medium"
    assert ReasoningIntent(budget_tokens=20000, enabled=True).resolved_effort() == "high"
    custom: dict[Effort, int] = {
        "minimal": 1,
        "low": 2,
        "medium": 3,
        "high": 4,
        "xhigh": 5,
        "max": 6,
    }
    assert ReasoningIntent(budget_tokens=20000, enabled=True).resolved_effort(custom) == "max"
    assert ReasoningIntent(effort="low", budget_tokens=1024).resolved_effort() == "low"


# (body, param of the error, the other param the message must name)
CONFLICTS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "two efforts",
        chat(reasoning_effort="high", reasoning={"effort": "low"}),
        "reasoning_effort",
        "reasoning.effort",
    ),
    (
        "effort vs openrouter budget",
        chat(reasoning_effort="high", reasoning={"max_tokens": 1024}),
        "reasoning_effort",
        "reasoning.max_tokens",
    ),
    (
        "openrouter effort and max_tokens disagree",
        chat(reasoning={"effort": "minimal", "max_tokens": 30000}),
        "reasoning.effort",
        "reasoning.max_tokens",
    ),
    (
        "two budgets",
        chat(reasoning={"max_tokens": 2048}, thinking={"type": "enabled", "budget_tokens": 2000}),
        "reasoning.max_tokens",
        "thinking.budget_tokens",
    ),
    (
        "effort none vs a budget",
        chat(reasoning_effort="none", reasoning={"max_tokens": 2048}),
        "reasoning_effort",
        "reasoning.max_tokens",
    ),
    (
        "effort vs template off",
        chat(reasoning_effort="high", chat_template_kwargs={"enable_thinking": False}),
        "reasoning_effort",
        "chat_template_kwargs.enable_thinking",
    ),
    (
        "effort none vs enabled",
        chat(reasoning_effort="none", reasoning={"enabled": True}),
        "reasoning_effort",
        "reasoning.enabled",
    ),
    (
        "openrouter off vs anthropic on",
        chat(reasoning={"enabled": False}, thinking={"type": "enabled"}),
        "reasoning.enabled",
        "thinking.type",
    ),
    (
        "anthropic off vs template on",
        chat(thinking={"type": "disabled"}, chat_template_kwargs={"enable_thinking": True}),
        "thinking.type",
        "chat_template_kwargs.enable_thinking",
    ),
    (
        "two template switches",
        chat(chat_template_kwargs={"enable_thinking": True, "thinking": False}),
        "chat_template_kwargs.enable_thinking",
        "chat_template_kwargs.thinking",
    ),
    (
        "budget vs off switch",
        chat(reasoning={"max_tokens": 4096}, chat_template_kwargs={"thinking": False}),
        "reasoning.max_tokens",
        "chat_template_kwargs.thinking",
    ),
    (
        "shown vs hidden",
        chat(reasoning={"exclude": True}, include_reasoning=True),
        "reasoning.exclude",
        "include_reasoning",
    ),
    (
        "anthropic summarized vs openrouter exclude",
        chat(reasoning={"exclude": True}, thinking={"type": "adaptive", "display": "summarized"}),
        "reasoning.exclude",
        "thinking.display",
    ),
    (
        "effort vs harmony line",
        chat(system("Reasoning: high"), user("Hi"), reasoning_effort="low"),
        "reasoning_effort",
        "messages[0].content",
    ),
    (
        "two harmony lines",
        chat(system("Reasoning: high"), developer(parts("Reasoning: low")), user("Hi")),
        "messages[0].content",
        "messages[1].content[0].text",
    ),
    (
        "effort vs qwen switch",
        chat(user("Explain /no_think"), reasoning_effort="high"),
        "reasoning_effort",
        "messages[0].content",
    ),
    (
        "harmony line vs qwen switch",
        chat(system("Reasoning: medium"), user("Explain /no_think")),
        "messages[0].content",
        "messages[1].content",
    ),
]


@pytest.mark.parametrize(
    ("body", "param", "other"), [pytest.param(b, p, o, id=n) for n, b, p, o in CONFLICTS]
)
def test_conflicts_name_both_params(body: dict[str, Any], param: str, other: str) -> None:
    with pytest.raises(InvalidReasoning) as caught:
        normalize_reasoning(body)
    error = caught.value
    assert (error.status, error.code, error.param) == (400, "invalid_reasoning", param)
    assert error.message.startswith(f"{param}=")
    assert f"conflicts with {other}=" in error.message


def test_effort_budget_conflict_says_what_the_budget_means() -> None:
    with pytest.raises(InvalidReasoning) as caught:
        normalize_reasoning(chat(reasoning_effort="high", reasoning={"max_tokens": 1024}))
    assert caught.value.message == (
        'reasoning_effort="high" conflicts with reasoning.max_tokens=1024: a budget of 1024 '
        "tokens corresponds to effort 'low'. Send one of them, or values that agree."
    )


# (body, param, a fragment of the message)
INVALID: list[tuple[dict[str, Any], str, str]] = [
    (chat(reasoning_effort="extreme"), "reasoning_effort", "none, minimal, low, medium"),
    (chat(reasoning_effort="High"), "reasoning_effort", "got 'High'"),
    (chat(reasoning_effort=3), "reasoning_effort", "got 3"),
    (chat(reasoning="high"), "reasoning", "must be an object"),
    (chat(reasoning={"summary": "auto"}), "reasoning.summary", "effort, max_tokens"),
    (chat(reasoning={"effort": "ultra"}), "reasoning.effort", "xhigh, max"),
    (chat(reasoning={"max_tokens": 0}), "reasoning.max_tokens", "positive whole number"),
    (chat(reasoning={"max_tokens": -5}), "reasoning.max_tokens", "got -5"),
    (chat(reasoning={"max_tokens": "1024"}), "reasoning.max_tokens", "got '1024'"),
    (chat(reasoning={"max_tokens": 1024.0}), "reasoning.max_tokens", "got 1024.0"),
    (chat(reasoning={"max_tokens": True}), "reasoning.max_tokens", "got True"),
    (chat(reasoning={"enabled": "yes"}), "reasoning.enabled", "true or false"),
    (chat(reasoning={"exclude": 1}), "reasoning.exclude", "true or false"),
    (chat(thinking={}), "thinking.type", "enabled, disabled, adaptive"),
    (chat(thinking={"type": "on"}), "thinking.type", "got 'on'"),
    (chat(thinking=True), "thinking", "must be an object"),
    (chat(thinking={"type": "enabled", "budget": 5}), "thinking.budget", "type, budget_tokens"),
    (
        chat(thinking={"type": "disabled", "budget_tokens": 2048}),
        "thinking.budget_tokens",
        "not 'disabled'",
    ),
    (
        chat(thinking={"type": "adaptive", "budget_tokens": 2048}),
        "thinking.budget_tokens",
        "not 'adaptive'",
    ),
    (
        chat(thinking={"type": "enabled", "budget_tokens": 0}),
        "thinking.budget_tokens",
        "positive whole number",
    ),
    (chat(thinking={"type": "enabled", "display": "full"}), "thinking.display", "summarized"),
    (chat(include_reasoning="false"), "include_reasoning", "true or false"),
    (
        chat(chat_template_kwargs={"enable_thinking": "false"}),
        "chat_template_kwargs.enable_thinking",
        "true or false",
    ),
]


@pytest.mark.parametrize(("body", "param", "fragment"), INVALID)
def test_bad_values_are_a_400_naming_the_param(
    body: dict[str, Any], param: str, fragment: str
) -> None:
    with pytest.raises(InvalidReasoning) as caught:
        normalize_reasoning(body)
    assert (caught.value.status, caught.value.param) == (400, param)
    assert fragment in caught.value.message


def test_template_kwargs_must_be_an_object() -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_reasoning(chat(chat_template_kwargs=["enable_thinking"]))
    assert not isinstance(caught.value, InvalidReasoning)
    assert (caught.value.status, caught.value.param) == (400, "chat_template_kwargs")


def test_odd_message_shapes_are_skipped_not_rejected() -> None:
    body = {
        "messages": [
            "not a message",
            {"role": "system", "content": None},
            {"role": "developer", "content": [{"type": "image_url"}, "x", {"type": "text"}]},
            {"role": "user", "content": 42},
        ]
    }
    assert normalize_reasoning(body) == ReasoningIntent()
    assert normalize_reasoning({"messages": "Reasoning: high"}) == ReasoningIntent()
