"""What a chat request may cost, before it is sent (pure).

The estimate is the prompt, counted locally and raised by a safety margin (the upstream's
tokenizer is not ours), priced as uncached input, plus an output allowance priced as output:

- the client's `max_completion_tokens` or `max_tokens` when it sent one, capped by what the
  context window leaves after the prompt;
- else the expected output of the model (`budgets.expected_output_tokens`: a plain and a
  reasoning figure, used until the routing policy supplies learned priors).

Every choice (`n`) may produce that output. The minimum is the same prompt with a minimal answer
(`budgets.minimal_output_tokens`). Prices come from the model's price entry through the metering
code, so long-context tiers and per-request fees count too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from router.errors import InvalidRequest
from router.metering.cost import cost
from router.metering.pricing import ModelPrice
from router.metering.usage import estimated_usage

OUTPUT_FIELDS = ("max_completion_tokens", "max_tokens")
MILLION = 1_000_000


@dataclass(frozen=True)
class OutputAsk:
    """The output limit the client set: which field, and its value (None: no limit sent)."""

    field: str | None
    tokens: int | None


def output_ask(body: Mapping[str, Any]) -> OutputAsk:
    """The client's output limit; a non-integer or negative one is a 400 (each endpoint's field
    checks hold its own least value: 1 on chat, 0 on legacy completions, to score a prompt)."""
    found: OutputAsk = OutputAsk(None, None)
    for name in OUTPUT_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(
                f"Invalid '{name}': expected a whole number >= 0, got {value!r}.",
                param=name,
                code="invalid_value",
            )
        if found.tokens is None or value < found.tokens:
            found = OutputAsk(name, value)
    return found


def choices(body: Mapping[str, Any]) -> int:
    """How many answers the request asks for (`n`); anything odd counts as one."""
    n = body.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1


def margin_tokens(counted: int, margin: Decimal) -> int:
    """The counted prompt raised by the safety margin (a fraction: 0.25 adds a quarter)."""
    return math.ceil(Decimal(counted) * (1 + margin))


@dataclass(frozen=True)
class Estimate:
    prompt_tokens: int  # with the margin
    output_tokens: int  # per choice
    n: int
    amount: Decimal  # prompt + output_tokens per choice
    minimum: Decimal  # prompt + a minimal answer per choice
    base: Decimal  # prompt and fees, no output
    per_output_token: Decimal  # USD for one output token (one choice)

    @property
    def tokens(self) -> int:
        """Tokens counted against a tokens-per-minute limit."""
        return self.prompt_tokens + self.output_tokens * self.n

    def covered(self, granted: Decimal) -> int:
        """Output tokens per choice that `granted` pays for (at most `output_tokens`)."""
        if self.per_output_token <= 0:
            return self.output_tokens
        room = (granted - self.base) / (self.per_output_token * self.n)
        tokens = int(room.to_integral_value(rounding=ROUND_FLOOR))
        return max(0, min(self.output_tokens, tokens))


def price_of(price: ModelPrice, prompt_tokens: int, output_tokens: int) -> Decimal:
    usage = estimated_usage(input_tokens=prompt_tokens, visible_output=output_tokens)
    return cost(usage, price).computed_total


def estimate(
    price: ModelPrice,
    prompt_tokens: int,
    output_tokens: int,
    minimal_tokens: int,
    n: int = 1,
) -> Estimate:
    base = price_of(price, prompt_tokens, 0)
    per_token = (price_of(price, prompt_tokens, MILLION) - base) / MILLION
    minimal = min(minimal_tokens, output_tokens)
    return Estimate(
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        n=n,
        amount=base + per_token * output_tokens * n,
        minimum=base + per_token * minimal * n,
        base=base,
        per_output_token=per_token,
    )


def expected_output(ask: OutputAsk, prior: int, context_window: int, prompt_tokens: int) -> int:
    """The output allowance: the client's limit or the prior, within the context window."""
    room = max(1, context_window - prompt_tokens)
    return min(ask.tokens if ask.tokens is not None else prior, room)


def limit_field(ask: OutputAsk, reasoning: bool) -> str:
    """The field to lower or add: the one the client used, else the usual one for the model."""
    if ask.field is not None:
        return ask.field
    return "max_completion_tokens" if reasoning else "max_tokens"


def with_output_limit(body: Mapping[str, Any], field: str, tokens: int) -> dict[str, Any]:
    """The body with `field` set to `tokens`, and any other output limit no higher."""
    out = dict(body)
    out[field] = tokens
    for name in OUTPUT_FIELDS:
        value = out.get(name)
        if name != field and isinstance(value, int) and value > tokens:
            out[name] = tokens
    return out
