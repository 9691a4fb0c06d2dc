"""One usage payload per upstream convention, metered and priced, with the sums done by hand.

Prices are USD per 1M tokens (conftest.py), so each part is tokens x price / 1,000,000.
Every case checks the five token kinds, each cost part, and that the kinds add up to the
upstream's own total_tokens (nothing counted twice, nothing missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from router.metering.cost import cost
from router.metering.pricing import PriceTable
from router.metering.usage import parse_usage, usage_from_anthropic_stream

D = Decimal


@dataclass(frozen=True)
class Bill:
    """What one request must be metered and priced at."""

    price: tuple[str, str | None]
    # (input_uncached, input_cached, cache_write, reasoning_output, visible_output)
    tokens: tuple[int, int, int, int, int]
    # input, cached_input, cache_write, reasoning, output
    parts: tuple[str, str, str, str, str]
    total: str


@dataclass(frozen=True)
class Case:
    name: str
    convention: str
    payload: dict[str, Any]
    bill: Bill


def chat_usage(
    prompt: int,
    completion: int,
    total: int,
    *,
    cached: int | None = None,
    reasoning: int | None = None,
    **more: Any,
) -> dict[str, Any]:
    """A usage object in the Chat Completions shape; `more` adds or replaces top-level keys."""
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": total,
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage | more


# Anthropic's input side of one request (message_start in a stream): input_tokens EXCLUDES the
# 20000 read and the 5000 written (3000 at 5m, 2000 at 1h).
ANTHROPIC_INPUT = {
    "input_tokens": 1000,
    "cache_read_input_tokens": 20000,
    "cache_creation_input_tokens": 5000,
    "cache_creation": {"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 2000},
}
# Its output side: 800 includes 500 thinking.
ANTHROPIC_OUTPUT = {"output_tokens": 800, "output_tokens_details": {"thinking_tokens": 500}}

# gemini-2.5-flash (in 0.30, cached 0.03, out 2.50): 1200 prompt of which 1000 cached, 700 of
# thoughts and 300 visible (1200 + 300 + 700 = 2200 = total), in every convention below.
#   input     200 x 0.30 =   60 -> 0.00006
#   cached   1000 x 0.03 =   30 -> 0.00003
#   reasoning 700 x 2.50 = 1750 -> 0.00175
#   visible   300 x 2.50 =  750 -> 0.00075
#   total 0.00259
GEMINI_FLASH = Bill(
    ("gemini-2.5-flash", None),
    (200, 1000, 0, 700, 300),
    ("0.00006", "0.00003", "0", "0.00175", "0.00075"),
    "0.00259",
)
# grok-4 (in 3, cached 0.75 test-only, out 15): 3000 prompt INCLUDES 2000 cached; 1500 of
# reasoning and 500 visible (total 5000) in both xAI cases below.
#   input    1000 x 3    =  3000 -> 0.003
#   cached   2000 x 0.75 =  1500 -> 0.0015
#   reasoning 1500 x 15  = 22500 -> 0.0225
#   visible   500 x 15   =  7500 -> 0.0075
#   total 0.0345
GROK_4 = Bill(
    ("grok-4", None),
    (1000, 2000, 0, 1500, 500),
    ("0.003", "0.0015", "0", "0.0225", "0.0075"),
    "0.0345",
)

CASES = [
    # o4-mini (in 1.10, cached 0.275, out 4.40). prompt 2000 of which 1500 cached; completion
    # 1200 INCLUDES 1000 reasoning (2000 + 1200 = 3200 = total).
    #   input     500 x 1.10  =   550 -> 0.00055
    #   cached   1500 x 0.275 = 412.5 -> 0.0004125
    #   reasoning 1000 x 4.40 =  4400 -> 0.0044
    #   visible   200 x 4.40  =   880 -> 0.00088
    #   total 0.00055 + 0.0004125 + 0.0044 + 0.00088 = 0.0062425
    Case(
        "openai_chat",
        "openai_chat",
        chat_usage(
            2000,
            1200,
            3200,
            reasoning=1000,
            prompt_tokens_details={"cached_tokens": 1500, "audio_tokens": 0},
        ),
        Bill(
            ("o4-mini", None),
            (500, 1500, 0, 1000, 200),
            ("0.00055", "0.0004125", "0", "0.0044", "0.00088"),
            "0.0062425",
        ),
    ),
    # gpt-5 (in 1.25, cached 0.125, out 10). input 10000 of which 4000 cached; output 3000
    # INCLUDES 2500 reasoning (10000 + 3000 = 13000 = total).
    #   input    6000 x 1.25  = 7500  -> 0.0075
    #   cached   4000 x 0.125 =  500  -> 0.0005
    #   reasoning 2500 x 10   = 25000 -> 0.025
    #   visible   500 x 10    =  5000 -> 0.005
    #   total 0.038
    Case(
        "openai_responses",
        "openai_responses",
        {
            "input_tokens": 10000,
            "input_tokens_details": {"cached_tokens": 4000},
            "output_tokens": 3000,
            "output_tokens_details": {"reasoning_tokens": 2500},
            "total_tokens": 13000,
        },
        Bill(
            ("gpt-5", None),
            (6000, 4000, 0, 2500, 500),
            ("0.0075", "0.0005", "0", "0.025", "0.005"),
            "0.038",
        ),
    ),
    # claude-sonnet-4-5 (in 3, read 0.30, write 5m 3.75 / 1h 6, out 15), ANTHROPIC_INPUT and
    # ANTHROPIC_OUTPUT in one usage object.
    #   input    1000 x 3    =  3000 -> 0.003
    #   cached  20000 x 0.30 =  6000 -> 0.006
    #   write    3000 x 3.75 = 11250 -> 0.01125
    #          + 2000 x 6    = 12000 -> 0.012     => 0.02325
    #   reasoning 500 x 15   =  7500 -> 0.0075
    #   visible   300 x 15   =  4500 -> 0.0045
    #   total 0.003 + 0.006 + 0.02325 + 0.0075 + 0.0045 = 0.04425
    Case(
        "anthropic_cache_read_and_write",
        "anthropic",
        {**ANTHROPIC_INPUT, **ANTHROPIC_OUTPUT, "service_tier": "standard"},
        Bill(
            ("claude-sonnet-4-5", None),
            (1000, 20000, 5000, 500, 300),
            ("0.003", "0.006", "0.02325", "0.0075", "0.0045"),
            "0.04425",
        ),
    ),
    # On Gemini's OpenAI-compatible endpoint: thoughts OUTSIDE completion_tokens.
    Case(
        "gemini_openai_thoughts_outside",
        "gemini_openai",
        chat_usage(1200, 300, 2200, cached=1000, reasoning=700),
        GEMINI_FLASH,
    ),
    # The same request where the gateway put thoughts INSIDE completion_tokens
    # (1200 + 1000 = 2200 = total): same tokens, same cost, reasoning billed once.
    Case(
        "gemini_openai_thoughts_inside",
        "gemini_openai",
        chat_usage(1200, 1000, 2200, cached=1000, reasoning=700),
        GEMINI_FLASH,
    ),
    # Native usageMetadata of the same request: candidates exclude thoughts.
    Case(
        "gemini_native",
        "gemini",
        {
            "promptTokenCount": 1200,
            "cachedContentTokenCount": 1000,
            "candidatesTokenCount": 300,
            "thoughtsTokenCount": 700,
            "totalTokenCount": 2200,
        },
        GEMINI_FLASH,
    ),
    # deepseek-reasoner (miss 0.28, hit 0.028, out 0.42). 4000 hit + 1000 miss; completion
    # 2500 includes 2000 of chain of thought (5000 + 2500 = 7500 = total).
    #   input    1000 x 0.28  = 280 -> 0.00028
    #   cached   4000 x 0.028 = 112 -> 0.000112
    #   reasoning 2000 x 0.42 = 840 -> 0.00084
    #   visible   500 x 0.42  = 210 -> 0.00021
    #   total 0.001442
    Case(
        "deepseek_cache_hit_miss",
        "deepseek",
        chat_usage(
            5000,
            2500,
            7500,
            reasoning=2000,
            prompt_cache_hit_tokens=4000,
            prompt_cache_miss_tokens=1000,
        ),
        Bill(
            ("deepseek-reasoner", None),
            (1000, 4000, 0, 2000, 500),
            ("0.00028", "0.000112", "0", "0.00084", "0.00021"),
            "0.001442",
        ),
    ),
    # gpt-oss-120b at OpenRouter (in 0.039, out 0.19), upstream cost 0.00016 USD.
    #   input    1000 x 0.039 = 39 -> 0.000039
    #   reasoning 400 x 0.19  = 76 -> 0.000076
    #   visible   200 x 0.19  = 38 -> 0.000038
    #   computed 0.000153; the reported 0.00016 wins as the total.
    Case(
        "openrouter_with_cost",
        "openrouter",
        chat_usage(
            1000,
            600,
            1600,
            cached=0,
            reasoning=400,
            cost=0.00016,
            is_byok=False,
            cost_details={"upstream_inference_cost": None},
        ),
        Bill(
            ("gpt-oss-120b", "openrouter"),
            (1000, 0, 0, 400, 200),
            ("0.000039", "0", "0", "0.000076", "0.000038"),
            "0.00016",
        ),
    ),
    # Ollama (priced here as llama-3.1-8b: in 0.05, out 0.08): no details object at all.
    #   input  400 x 0.05 = 20 -> 0.00002
    #   output 100 x 0.08 =  8 -> 0.000008
    #   total 0.000028
    Case(
        "ollama_no_details",
        "ollama",
        chat_usage(400, 100, 500),
        Bill(
            ("llama-3.1-8b", None),
            (400, 0, 0, 0, 100),
            ("0.00002", "0", "0", "0", "0.000008"),
            "0.000028",
        ),
    ),
    # xAI: reasoning 1500 OUTSIDE completion 500 (3000 + 500 + 1500 = 5000 = total).
    Case(
        "xai_reasoning_outside",
        "xai",
        chat_usage(
            3000,
            500,
            5000,
            reasoning=1500,
            prompt_tokens_details={"cached_tokens": 2000, "text_tokens": 3000},
            num_sources_used=0,
        ),
        GROK_4,
    ),
    # The same on an xAI path that counts reasoning inside completion (3000 + 2000 = 5000).
    Case(
        "xai_reasoning_inside",
        "xai",
        chat_usage(3000, 2000, 5000, cached=2000, reasoning=1500),
        GROK_4,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_usage_is_metered_and_priced_part_by_part(case: Case, prices: PriceTable) -> None:
    usage = parse_usage(case.convention, case.payload)
    kinds = (
        usage.input_uncached,
        usage.input_cached,
        usage.cache_write,
        usage.reasoning_output,
        usage.visible_output,
    )
    assert kinds == case.bill.tokens
    if usage.total_reported is not None:
        assert usage.total == usage.total_reported

    breakdown = cost(usage, prices.lookup(*case.bill.price))

    got = (
        breakdown.input,
        breakdown.cached_input,
        breakdown.cache_write,
        breakdown.reasoning,
        breakdown.output,
    )
    assert got == tuple(D(part) for part in case.bill.parts)
    assert breakdown.total == D(case.bill.total)
    assert breakdown.total > 0
    assert breakdown.estimated is False


def test_openrouter_keeps_both_totals_and_says_how_they_differ(prices: PriceTable) -> None:
    case = next(case for case in CASES if case.name == "openrouter_with_cost")
    breakdown = cost(parse_usage("openrouter", case.payload), prices.lookup(*case.bill.price))
    assert breakdown.reported_total == D("0.00016")
    assert breakdown.computed_total == D("0.000153")
    assert breakdown.difference == D("0.000007")
    assert breakdown.difference_note() == (
        "upstream reported 0.00016 USD; the price table gives 0.000153 USD (difference 0.000007)"
    )


def test_openrouter_byok_adds_the_upstream_charge() -> None:
    # BYOK: OpenRouter's own fee (cost) plus what the provider charged the user's key.
    usage = parse_usage(
        "openrouter",
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "cost": 0.00001,
            "is_byok": True,
            "cost_details": {"upstream_inference_cost": 0.0002},
        },
    )
    assert usage.reported_cost == D("0.00021")


def test_anthropic_stream_takes_cumulative_delta_and_keeps_start_cache_counts(
    prices: PriceTable,
) -> None:
    # message_start carries input and cache counts; message_delta the final (cumulative) output.
    start = {**ANTHROPIC_INPUT, "output_tokens": 1}
    streamed = usage_from_anthropic_stream(start, ANTHROPIC_OUTPUT)
    whole = parse_usage("anthropic", {**start, **ANTHROPIC_OUTPUT})
    assert streamed == whole
    # Same figures as the non-streamed case: 0.04425 USD.
    assert cost(streamed, prices.lookup("claude-sonnet-4-5")).total == D("0.04425")
