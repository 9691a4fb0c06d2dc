"""Anthropic usage through the adapter and into metering: cache reads and writes billed right.

The translated usage carries OpenAI's fields for clients and Anthropic's own counts for the
meter. The `anthropic` convention (the dialect's default) bills 1-hour cache writes at their
own price; OpenAI's view of the same object gives the same token totals.
"""

from __future__ import annotations

from decimal import Decimal

from router.metering.bill import make_bill
from router.metering.usage import Usage, parse_usage
from router.providers.registry import adapter_for, default_usage
from tests.unit.providers.catalog import catalog

MODEL = catalog()["claude-sonnet-4-5"]
RESPONSE = {
    "id": "msg_usage",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hello."}],
    "stop_reason": "end_turn",
    "usage": {
        "input_tokens": 312,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 2048,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 420,
        "output_tokens_details": {"thinking_tokens": 300},
    },
}


def translated_usage() -> dict[str, object]:
    body = adapter_for("anthropic").parse_response(RESPONSE, MODEL, True)
    usage: dict[str, object] = body["usage"]
    return usage


def test_openai_fields_for_clients() -> None:
    usage = translated_usage()
    assert usage["prompt_tokens"] == 312 + 2048 + 3000
    assert usage["completion_tokens"] == 420
    assert usage["total_tokens"] == 312 + 2048 + 3000 + 420
    assert usage["prompt_tokens_details"] == {"cached_tokens": 2048, "cache_write_tokens": 3000}
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 300}


def test_metered_with_the_anthropic_convention() -> None:
    assert MODEL.provider.usage == default_usage("anthropic") == "anthropic"
    metered = parse_usage(MODEL.provider.usage, translated_usage())
    assert metered == Usage(
        input_uncached=312,
        input_cached=2048,
        cache_write=3000,
        cache_write_1h=2000,
        reasoning_output=300,
        visible_output=120,
    )


def test_cache_writes_billed_per_ttl() -> None:
    bill = make_bill(parse_usage("anthropic", translated_usage()), MODEL.price, None)
    million = Decimal(1_000_000)
    five_minutes, one_hour = Decimal("3.75"), Decimal("6.00")  # claude-sonnet-4-5, USD per 1M
    assert bill.cost.cache_write == (1000 * five_minutes + 2000 * one_hour) / million
    assert bill.cost.cached_input == 2048 * Decimal("0.30") / million


def test_openai_view_counts_the_same_tokens() -> None:
    anthropic = parse_usage("anthropic", translated_usage())
    openai = parse_usage("openai_chat", translated_usage())
    assert openai.input_total == anthropic.input_total
    assert openai.output_total == anthropic.output_total
    assert (openai.input_cached, openai.cache_write) == (2048, 3000)
