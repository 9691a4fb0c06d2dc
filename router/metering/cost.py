"""What one request cost, part by part, in Decimal USD (pure).

`cost(usage, price)` prices each kind of token once:

    input        = input_uncached  x input rate
    cached_input = input_cached    x cached_input rate
    cache_write  = 5-minute writes x cache_write 5m rate + 1-hour writes x cache_write 1h rate
    reasoning    = reasoning tokens x output rate
    output       = visible tokens  x output rate
    fees         = per_request + web_search_calls x per_web_search

Rates come from the long-context tier whose bound the prompt exceeds (the prompt is
`context_tokens`, default `usage.input_total`), else the standard rates; `batch=True` takes the
tier's (or the model's) batch rates. A rate the price list does not give falls back, and the
fallback is recorded in `notes`: batch part -> standard part; cached input -> input rate; 1h
write -> 5m write -> input rate. No batch price at all -> standard prices.

When the upstream reported its own cost (OpenRouter `usage.cost`), `total` is that figure and
`computed_total` keeps ours; `difference_note()` says by how much they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from router.metering.pricing import ContextTier, ModelPrice, Rates
from router.metering.usage import Usage

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    input: Decimal
    cached_input: Decimal
    cache_write: Decimal
    reasoning: Decimal
    output: Decimal
    fees: Decimal
    total: Decimal  # the upstream's reported cost when it sent one, else computed_total
    computed_total: Decimal
    reported_total: Decimal | None = None
    estimated: bool = False
    notes: tuple[str, ...] = ()

    def parts(self) -> dict[str, Decimal]:
        return {
            "input": self.input,
            "cached_input": self.cached_input,
            "cache_write": self.cache_write,
            "reasoning": self.reasoning,
            "output": self.output,
            "fees": self.fees,
        }

    def header_detail(self) -> str:
        """`x-tokenwise-cost-detail`: the five token parts, then `fees=` when there are any."""
        parts = self.parts()
        if not self.fees:
            del parts["fees"]
        return "; ".join(f"{name}={format_usd(value)}" for name, value in parts.items())

    @property
    def difference(self) -> Decimal | None:
        if self.reported_total is None:
            return None
        return self.reported_total - self.computed_total

    def difference_note(self) -> str | None:
        difference = self.difference
        if difference is None or not difference:
            return None
        return (
            f"upstream reported {format_usd(self.total)} USD; the price table gives "
            f"{format_usd(self.computed_total)} USD (difference {format_usd(difference)})"
        )


def format_usd(amount: Decimal) -> str:
    """Plain decimal notation, no exponent, no trailing zeros: `0.000123`, `0`, `12.5`."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def cost(
    usage: Usage, price: ModelPrice, *, context_tokens: int | None = None, batch: bool = False
) -> CostBreakdown:
    notes: list[str] = []
    prompt = usage.input_total if context_tokens is None else context_tokens
    tier = _tier_for(price.long_context, prompt)
    standard = tier.rates if tier is not None else price.rates
    chosen = standard
    if batch:
        batch_rates = tier.batch if tier is not None else price.batch
        if batch_rates is None:
            notes.append("no batch price: standard prices used")
        else:
            chosen = batch_rates
    fallback = standard if chosen is not standard else None
    rate = _RatePicker(chosen, fallback, notes)

    writes_1h = usage.cache_write_1h
    writes_5m = usage.cache_write - writes_1h
    parts = {
        "input": _per_million(usage.input_uncached, chosen.input),
        "cached_input": _per_million(
            usage.input_cached, rate.pick("cached_input", usage.input_cached)
        ),
        "cache_write": _per_million(writes_5m, rate.pick("cache_write_5m", writes_5m))
        + _per_million(writes_1h, rate.pick("cache_write_1h", writes_1h)),
        "reasoning": _per_million(usage.reasoning_output, chosen.output),
        "output": _per_million(usage.visible_output, chosen.output),
    }
    fees = price.fees.per_request + price.fees.per_web_search * usage.web_search_calls
    computed = sum(parts.values(), _ZERO) + fees
    reported = usage.reported_cost
    return CostBreakdown(
        input=parts["input"],
        cached_input=parts["cached_input"],
        cache_write=parts["cache_write"],
        reasoning=parts["reasoning"],
        output=parts["output"],
        fees=fees,
        total=reported if reported is not None else computed,
        computed_total=computed,
        reported_total=reported,
        estimated=usage.estimated,
        notes=tuple(notes),
    )


def _tier_for(tiers: tuple[ContextTier, ...], prompt_tokens: int) -> ContextTier | None:
    chosen = None
    for tier in tiers:  # sorted by bound at load
        if prompt_tokens > tier.above_input_tokens:
            chosen = tier
    return chosen


def _per_million(tokens: int, rate: Decimal) -> Decimal:
    if not tokens:
        return _ZERO
    return (rate * tokens).scaleb(-6)


class _RatePicker:
    """Resolves optional rates through the fallback chain, noting each fallback once."""

    _CHAINS: ClassVar[dict[str, tuple[str, ...]]] = {
        "cached_input": ("cached_input", "input"),
        "cache_write_5m": ("cache_write_5m", "input"),
        "cache_write_1h": ("cache_write_1h", "cache_write_5m", "input"),
    }
    _LABELS: ClassVar[dict[str, str]] = {
        "cached_input": "cached input",
        "cache_write_5m": "5-minute cache write",
        "cache_write_1h": "1-hour cache write",
        "input": "input",
    }

    def __init__(self, chosen: Rates, standard: Rates | None, notes: list[str]) -> None:
        self._chosen = chosen
        self._standard = standard
        self._notes = notes

    def pick(self, kind: str, tokens: int) -> Decimal:
        for name in self._CHAINS[kind]:
            for rates, where in ((self._chosen, ""), (self._standard, "standard ")):
                value = _field(rates, name)
                if value is None:
                    continue
                if tokens and (name != kind or where):
                    self._notes.append(
                        f"no {'batch ' if where else ''}{self._LABELS[kind]} price: "
                        f"billed at the {where}{self._LABELS[name]} rate"
                    )
                return value
        raise AssertionError(f"{kind}: input rate missing")  # input is required at load


def _field(rates: Rates | None, name: str) -> Decimal | None:
    if rates is None:
        return None
    value: Decimal | None = getattr(rates, name)
    return value
