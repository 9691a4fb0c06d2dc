"""Price tiers, batch, fallbacks, fees and the header rendering (prices from conftest.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from router.metering.cost import cost, format_usd
from router.metering.pricing import PriceTable
from router.metering.usage import Usage, estimated_usage, usage_from_openai_chat

D = Decimal


def test_long_context_tier_prices_the_whole_request(prices: PriceTable) -> None:
    # claude-sonnet-4-5, prompt 150000 + 60000 cached = 210000 > 200000: long-context rates
    #   input  150000 x 6     = 900000 -> 0.9
    #   cached  60000 x 0.60  =  36000 -> 0.036
    #   output   1000 x 22.50 =  22500 -> 0.0225
    #   total 0.9585
    usage = Usage(input_uncached=150_000, input_cached=60_000, visible_output=1000)
    breakdown = cost(usage, prices.lookup("claude-sonnet-4-5"))
    assert (breakdown.input, breakdown.cached_input, breakdown.output) == (
        D("0.9"),
        D("0.036"),
        D("0.0225"),
    )
    assert breakdown.total == D("0.9585")


def test_the_bound_itself_is_still_standard_price(prices: PriceTable) -> None:
    # exactly 200000 prompt tokens: 200000 x 3 = 600000 -> 0.6 (standard), output 0
    usage = Usage(input_uncached=200_000)
    assert cost(usage, prices.lookup("claude-sonnet-4-5")).total == D("0.6")
    # an explicit context size overrides the usage's own: 1000 x 6 = 6000 -> 0.006
    small = Usage(input_uncached=1000)
    priced = cost(small, prices.lookup("claude-sonnet-4-5"), context_tokens=250_000)
    assert priced.input == D("0.006")


def test_batch_rates(prices: PriceTable) -> None:
    # claude-sonnet-4-5 batch: input 10000 x 1.50 = 15000 -> 0.015;
    # cached 10000 x 0.15 = 1500 -> 0.0015; 5m write 1000 x 1.875 = 1875 -> 0.001875;
    # output 2000 x 7.50 = 15000 -> 0.015; total 0.033375
    usage = Usage(input_uncached=10_000, input_cached=10_000, cache_write=1000, visible_output=2000)
    breakdown = cost(usage, prices.lookup("claude-sonnet-4-5"), batch=True)
    assert breakdown.parts() == {
        "input": D("0.015"),
        "cached_input": D("0.0015"),
        "cache_write": D("0.001875"),
        "reasoning": D(0),
        "output": D("0.015"),
        "fees": D(0),
    }
    assert breakdown.total == D("0.033375")
    assert breakdown.notes == ()


def test_batch_without_a_cached_price_uses_the_standard_one_and_says_so(
    prices: PriceTable,
) -> None:
    # gpt-5 batch lists input 0.625 / output 5 only; cached falls back to standard 0.125.
    #   input 1000 x 0.625 = 625 -> 0.000625; cached 8000 x 0.125 = 1000 -> 0.001
    usage = Usage(input_uncached=1000, input_cached=8000)
    breakdown = cost(usage, prices.lookup("gpt-5"), batch=True)
    assert (breakdown.input, breakdown.cached_input) == (D("0.000625"), D("0.001"))
    assert breakdown.notes == (
        "no batch cached input price: billed at the standard cached input rate",
    )


def test_no_batch_price_at_all_falls_back_to_standard(prices: PriceTable) -> None:
    # deepseek-reasoner: 1000 x 0.28 = 280 -> 0.00028
    breakdown = cost(Usage(input_uncached=1000), prices.lookup("deepseek-reasoner"), batch=True)
    assert breakdown.total == D("0.00028")
    assert breakdown.notes == ("no batch price: standard prices used",)


def test_cache_writes_without_a_write_price_are_billed_as_input(prices: PriceTable) -> None:
    # OpenAI 2026 cache_write_tokens on gpt-5 (no write price): prompt 3000 = 1000 cached +
    # 1500 written + 500 plain. 500 x 1.25 = 625; 1000 x 0.125 = 125; 1500 x 1.25 = 1875.
    payload = {
        "prompt_tokens": 3000,
        "completion_tokens": 10,
        "total_tokens": 3010,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 1500},
    }
    usage = usage_from_openai_chat(payload)
    assert (usage.input_uncached, usage.input_cached, usage.cache_write) == (500, 1000, 1500)
    breakdown = cost(usage, prices.lookup("gpt-5"))
    assert breakdown.input == D("0.000625")
    assert breakdown.cached_input == D("0.000125")
    assert breakdown.cache_write == D("0.001875")
    assert breakdown.notes == ("no 5-minute cache write price: billed at the input rate",)


def test_one_hour_writes_without_a_1h_price_use_the_5m_price(prices: PriceTable) -> None:
    # 400 x 3.75 = 1500 -> 0.0015 (and a note: this undercharges a real 1h write)
    usage = Usage(cache_write=400, cache_write_1h=400)
    breakdown = cost(usage, prices.lookup("claude-short-write-only"))
    assert breakdown.cache_write == D("0.0015")
    assert breakdown.notes == (
        "no 1-hour cache write price: billed at the 5-minute cache write rate",
    )


def test_missing_cached_price_bills_cache_reads_at_the_input_rate(prices: PriceTable) -> None:
    # gpt-oss-120b at OpenRouter has no cached price: 1000 x 0.039 = 39 -> 0.000039
    breakdown = cost(Usage(input_cached=1000), prices.lookup("gpt-oss-120b", "openrouter"))
    assert breakdown.cached_input == D("0.000039")
    assert breakdown.notes == ("no cached input price: billed at the input rate",)


def test_fees_and_the_cost_detail_header(prices: PriceTable) -> None:
    # claude-sonnet-4-5: 3 web searches x 0.01 = 0.03; 100 x 3 = 300 -> 0.0003 input;
    # 50 x 15 = 750 -> 0.00075 output; total 0.03105
    usage = Usage(input_uncached=100, visible_output=50, web_search_calls=3)
    breakdown = cost(usage, prices.lookup("claude-sonnet-4-5"))
    assert breakdown.fees == D("0.03")
    assert breakdown.total == D("0.03105")
    assert breakdown.header_detail() == (
        "input=0.0003; cached_input=0; cache_write=0; reasoning=0; output=0.00075; fees=0.03"
    )


def test_header_detail_has_exactly_the_five_parts_without_fees(prices: PriceTable) -> None:
    # o4-mini: 500 x 1.10 -> 0.00055; 1500 x 0.275 -> 0.0004125; 1000 x 4.40 -> 0.0044;
    # 200 x 4.40 -> 0.00088
    usage = Usage(input_uncached=500, input_cached=1500, reasoning_output=1000, visible_output=200)
    detail = cost(usage, prices.lookup("o4-mini")).header_detail()
    assert detail == (
        "input=0.00055; cached_input=0.0004125; cache_write=0; reasoning=0.0044; output=0.00088"
    )


def test_estimated_usage_is_priced_and_marked(prices: PriceTable) -> None:
    # 120 x 0.05 = 6 -> 0.000006; 30 x 0.08 = 2.4 -> 0.0000024
    usage = estimated_usage(input_tokens=120, visible_output=30)
    breakdown = cost(usage, prices.lookup("llama-3.1-8b"))
    assert breakdown.estimated is True
    assert breakdown.total == D("0.0000084")
    assert breakdown.difference is None and breakdown.difference_note() is None


def test_equal_reported_and_computed_cost_needs_no_note(prices: PriceTable) -> None:
    usage = Usage(input_uncached=1000, reported_cost=D("0.000039"))
    breakdown = cost(usage, prices.lookup("gpt-oss-120b", "openrouter"))
    assert breakdown.difference == 0
    assert breakdown.difference_note() is None


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("1E+2"), "100"),
        (D("0.000"), "0"),
        (D("-0"), "0"),
        (D("0.0004125"), "0.0004125"),
        (D("12.50"), "12.5"),
        (D("3.75E-8"), "0.0000000375"),
    ],
)
def test_format_usd(amount: Decimal, text: str) -> None:
    assert format_usd(amount) == text
