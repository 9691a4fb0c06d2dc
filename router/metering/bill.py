"""From an answer (JSON or a stream's chunks) to what it cost: usage, estimate, Decimal parts.

Usage is trusted from the upstream when it sent one. When it did not (or the client left
mid-stream), the tokens are counted locally from the prompt and from the text that was generated
so far, and the bill is marked estimated: a request is never metered at zero because usage was
absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from router.metering.cost import CostBreakdown, cost, format_usd
from router.metering.pricing import ModelPrice
from router.metering.tokens import TokenCounter
from router.metering.usage import Usage, UsageError, estimated_usage, parse_usage

REASONING_FIELDS = ("reasoning_content", "reasoning")


@dataclass
class Tally:
    """What a stream delivered so far: its usage if any, and the generated text for counting."""

    usage: Mapping[str, Any] | None = None
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    finish: set[str] = field(default_factory=set)  # the finish reasons seen

    def add_chunk(self, chunk: Mapping[str, Any]) -> None:
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.usage = usage
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            return
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, Mapping) else None
            if isinstance(delta, Mapping):
                self._add_message(delta)
            self._add_text(choice)
            self._add_finish(choice)

    def add_response(self, body: Mapping[str, Any]) -> None:
        usage = body.get("usage")
        if isinstance(usage, Mapping):
            self.usage = usage
        choices = body.get("choices")
        if not isinstance(choices, list):
            return
        for choice in choices:
            message = choice.get("message") if isinstance(choice, Mapping) else None
            if isinstance(message, Mapping):
                self._add_message(message)
            self._add_text(choice)
            self._add_finish(choice)

    def _add_finish(self, choice: object) -> None:
        reason = choice.get("finish_reason") if isinstance(choice, Mapping) else None
        if isinstance(reason, str):
            self.finish.add(reason)

    def _add_text(self, choice: object) -> None:
        """A legacy text completion's `choices[].text`."""
        text = choice.get("text") if isinstance(choice, Mapping) else None
        if isinstance(text, str) and text:
            self.content.append(text)

    def _add_message(self, message: Mapping[str, Any]) -> None:
        content = message.get("content")
        if isinstance(content, str) and content:
            self.content.append(content)
        for name in REASONING_FIELDS:
            text = message.get(name)
            if isinstance(text, str) and text:
                self.reasoning.append(text)
                break
        calls = message.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                fn = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(fn, Mapping):
                    for part in (fn.get("name"), fn.get("arguments")):
                        if isinstance(part, str) and part:
                            self.content.append(part)


@dataclass(frozen=True)
class Bill:
    usage: Usage
    cost: CostBreakdown
    savings: Decimal

    def headers(self) -> dict[str, str]:
        return {
            "x-tokenwise-cost-usd": format_usd(self.cost.total),
            "x-tokenwise-cost-detail": self.cost.header_detail(),
            "x-tokenwise-savings-usd": format_usd(self.savings),
        }

    def in_band(self) -> dict[str, Any]:
        """`usage.cost` and `usage.cost_details` for a stream's usage chunk (as OpenRouter does)."""
        return {
            "cost": float(self.cost.total),
            "cost_details": {k: float(v) for k, v in self.cost.parts().items()},
        }


def measure(
    tally: Tally,
    messages: Sequence[Mapping[str, Any]],
    upstream_model: str,
    convention: str,
    counter: TokenCounter,
    known_tokens: int = 0,
    body: Mapping[str, Any] | None = None,
) -> Usage:
    """The upstream's usage when it sent one, else a local count (marked estimated);
    `known_tokens`: prompt tokens the messages do not show (a prompt given as token ids);
    `body`: the request, whose tool definitions and schema the upstream adds to the prompt."""
    if tally.usage is not None:
        try:
            return parse_usage(convention, tally.usage)
        except UsageError:
            pass  # unusable usage is the same as none: count instead
    prompt = counter.count_messages(messages, upstream_model).tokens + known_tokens
    if body is not None:
        prompt += counter.count_prompt_fields(body, upstream_model)
    visible = counter.count("".join(tally.content), upstream_model).tokens
    reasoning = counter.count("".join(tally.reasoning), upstream_model).tokens
    return estimated_usage(input_tokens=prompt, visible_output=visible, reasoning_output=reasoning)


def reasoning_ate_the_answer(tally: Tally, usage: Usage) -> bool:
    """An answer cut at the output limit (`finish_reason: length`) with reasoning tokens and no
    visible content or tool call: the limit went to thinking, and the client paid for no
    answer."""
    return not tally.content and "length" in tally.finish and usage.reasoning_output > 0


def unanswered_header(usage: Usage) -> dict[str, str]:
    """What the client is told about such an answer (`x-tokenwise-answer`)."""
    return {
        "x-tokenwise-answer": (
            f"visible=0; reasoning={usage.reasoning_output}; finish_reason=length; "
            "hint=raise max_tokens or lower reasoning_effort"
        )
    }


def make_bill(usage: Usage, price: ModelPrice, reference: ModelPrice | None) -> Bill:
    """Price the usage; savings are what the reference model would have cost for the same tokens.

    Savings are an estimate: the reference model would not have spent exactly these tokens.
    """
    breakdown = cost(usage, price)
    savings = Decimal(0)
    if reference is not None and reference is not price:
        savings = cost(usage, reference).total - breakdown.total
    return Bill(usage=usage, cost=breakdown, savings=savings)
