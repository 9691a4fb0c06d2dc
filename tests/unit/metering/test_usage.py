"""Usage parsing edge cases: the reasoning rule, malformed payloads, the dispatcher."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from router.metering.bill import Tally, measure, reasoning_ate_the_answer
from router.metering.tokens import TokenCounter
from router.metering.usage import (
    PARSERS,
    Usage,
    UsageError,
    estimated_usage,
    parse_usage,
    split_reasoning,
)


@pytest.mark.parametrize(
    ("prompt", "completion", "reasoning", "total", "inside", "expected"),
    [
        (100, 50, 30, 180, True, (30, 50)),  # 100 + 50 + 30 = total: outside, despite default
        (100, 50, 30, 150, False, (30, 20)),  # 100 + 50 = total: inside, despite default
        (100, 50, 30, None, True, (30, 20)),  # no total: the convention's default
        (100, 50, 30, None, False, (30, 50)),
        (100, 50, 80, None, True, (80, 50)),  # more reasoning than completion: cannot be inside
        (100, 50, 80, 150, True, (50, 0)),  # total says inside: reasoning clamped to completion
        (100, 50, 0, 150, True, (0, 50)),
        (100, 50, 30, 999, True, (30, 20)),  # total matches neither: the default
    ],
)
def test_split_reasoning_bills_reasoning_once(
    prompt: int,
    completion: int,
    reasoning: int,
    total: int | None,
    inside: bool,
    expected: tuple[int, int],
) -> None:
    assert split_reasoning(prompt, completion, reasoning, total, inside=inside) == expected


def test_cached_tokens_are_never_counted_twice() -> None:
    # prompt 1000 includes 1000 cached: nothing uncached left
    usage = parse_usage(
        "xai",
        {
            "prompt_tokens": 1000,
            "completion_tokens": 1,
            "prompt_tokens_details": {"cached_tokens": 1000},
        },
    )
    assert (usage.input_uncached, usage.input_cached, usage.input_total) == (0, 1000, 1000)


def test_deepseek_without_miss_count_derives_it() -> None:
    usage = parse_usage(
        "deepseek", {"prompt_tokens": 900, "prompt_cache_hit_tokens": 600, "completion_tokens": 5}
    )
    assert (usage.input_uncached, usage.input_cached) == (300, 600)


def test_anthropic_without_tier_breakdown_prices_writes_at_the_default_tier() -> None:
    usage = parse_usage("anthropic", {"input_tokens": 10, "cache_creation_input_tokens": 70})
    assert (usage.cache_write, usage.cache_write_1h) == (70, 0)


def test_ollama_has_no_reasoning_split() -> None:
    usage = parse_usage("ollama", {"prompt_tokens": 12, "completion_tokens": 34})
    assert (usage.reasoning_output, usage.visible_output, usage.total_reported) == (0, 34, None)


def test_every_convention_is_dispatched_by_name() -> None:
    assert set(PARSERS) == {
        "openai_chat",
        "openai_responses",
        "anthropic",
        "gemini",
        "gemini_openai",
        "deepseek",
        "openrouter",
        "ollama",
        "xai",
    }
    with pytest.raises(ValueError, match=r"unknown usage convention 'bedrock' \(known: anthropic"):
        parse_usage("bedrock", {})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"prompt_tokens": -1}, "usage.prompt_tokens"),
        ({"prompt_tokens": "12"}, "usage.prompt_tokens"),
        ({"prompt_tokens": True}, "usage.prompt_tokens"),
        ({"prompt_tokens": 1.5}, "usage.prompt_tokens"),
        ({"prompt_tokens": float("inf")}, "usage.prompt_tokens"),
        (
            {"completion_tokens_details": {"reasoning_tokens": -3}},
            "usage.completion_tokens_details.reasoning_tokens",
        ),
        ({"cost": "free"}, "usage.cost"),
        ({"cost": -0.5}, "usage.cost"),
    ],
)
def test_malformed_usage_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(UsageError, match=field.replace(".", r"\.")):
        parse_usage("openrouter", payload)


def test_whole_floats_are_accepted_as_counts() -> None:
    usage = parse_usage("openai_chat", {"prompt_tokens": 12.0, "completion_tokens": 3})
    assert usage.input_uncached == 12


def test_payload_must_be_an_object() -> None:
    with pytest.raises(UsageError, match="must be a JSON object, got list"):
        parse_usage("openai_chat", [])  # type: ignore[arg-type]


def test_usage_rejects_inconsistent_values() -> None:
    with pytest.raises(UsageError, match="cache_write_1h"):
        Usage(cache_write=1, cache_write_1h=2)
    with pytest.raises(UsageError, match="input_cached"):
        Usage(input_cached=-1)


def test_openrouter_cost_is_kept_exactly() -> None:
    usage = parse_usage("openrouter", {"prompt_tokens": 1, "cost": 0.000123})
    assert usage.reported_cost == Decimal("0.000123")


def test_a_local_count_adds_prompt_tokens_given_as_ids() -> None:
    """An upstream that sends no usage: a prompt of token ids is counted by its length."""
    counter = TokenCounter()
    tally = Tally(content=["Paris"])
    text = [{"role": "user", "content": "Capital of France?"}]
    alone = measure(tally, text, "gpt-4o-mini", "openai", counter)
    with_ids = measure(tally, text, "gpt-4o-mini", "openai", counter, known_tokens=40)
    assert alone.estimated and with_ids.estimated
    assert with_ids.input_uncached == alone.input_uncached + 40
    assert with_ids.visible_output == alone.visible_output


@pytest.mark.parametrize(
    ("chunks", "reasoning", "unanswered"),
    [
        (
            [{"choices": [{"delta": {"reasoning_content": "hmm"}, "finish_reason": "length"}]}],
            50,
            True,
        ),
        ([{"choices": [{"delta": {"content": "4"}, "finish_reason": "length"}]}], 50, False),
        (
            [{"choices": [{"delta": {"reasoning_content": "hmm"}, "finish_reason": "stop"}]}],
            50,
            False,
        ),
        ([{"choices": [{"delta": {}, "finish_reason": "length"}]}], 0, False),  # plain model, cut
        (
            [  # a tool call is an answer
                {"choices": [{"delta": {"tool_calls": [{"function": {"name": "f"}}]}}]},
                {"choices": [{"delta": {}, "finish_reason": "length"}]},
            ],
            50,
            False,
        ),
    ],
)
def test_an_answer_the_limit_spent_on_reasoning(
    chunks: list[dict[str, Any]], reasoning: int, unanswered: bool
) -> None:
    tally = Tally()
    for chunk in chunks:
        tally.add_chunk(chunk)
    usage = estimated_usage(input_tokens=10, visible_output=0, reasoning_output=reasoning)
    assert reasoning_ate_the_answer(tally, usage) is unanswered


def test_a_local_count_adds_the_tools_and_schema_of_the_request() -> None:
    """No usage from the upstream: the tool definitions and the structured-output schema it
    put into the prompt are counted with the messages."""
    counter = TokenCounter()
    tally = Tally(content=["Paris"])
    text = [{"role": "user", "content": "Capital of France?"}]
    tool = {"type": "function", "function": {"name": "lookup", "description": "x " * 50}}
    body = {"messages": text, "tools": [tool], "response_format": {"type": "json_object"}}
    alone = measure(tally, text, "gpt-4o-mini", "openai", counter)
    counted = measure(tally, text, "gpt-4o-mini", "openai", counter, body=body)
    assert counted.input_uncached == alone.input_uncached + counter.count_prompt_fields(body)
    assert counted.input_uncached > alone.input_uncached + 50
