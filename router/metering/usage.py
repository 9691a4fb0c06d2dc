"""Token usage in one shape, from whichever convention the upstream reports it in.

`Usage` splits every request into five disjoint kinds: uncached input, cached input (cache
reads), cache writes, reasoning output and visible output. Each is billed once, so their sum is
what the upstream billed, whatever its own arithmetic:

| convention       | input                                        | reasoning                   |
| ---------------- | -------------------------------------------- | --------------------------- |
| openai_chat      | prompt_tokens includes cached and written    | inside completion_tokens    |
| openai_responses | input_tokens includes cached and written     | inside output_tokens        |
| anthropic        | input_tokens EXCLUDES cache reads and writes | inside output_tokens        |
| gemini (native)  | promptTokenCount includes cached             | thoughts OUTSIDE candidates |
| gemini_openai    | prompt_tokens includes cached                | decided by total_tokens     |
| deepseek         | prompt_cache_hit_tokens + _miss_tokens       | inside completion_tokens    |
| openrouter       | as openai_chat, plus `cost` (USD)            | inside completion_tokens    |
| ollama           | prompt_tokens, no details at all             | not reported (inside)       |
| xai              | prompt_tokens includes cached                | decided by total_tokens     |

Reasoning rule (every convention that reports a total): if `prompt + completion + reasoning ==
total` the reasoning sits outside the completion count; if `prompt + completion == total` it
sits inside. Without a usable total the convention's default (column above) applies, except
that a reasoning count larger than the completion count cannot be inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

Payload = Mapping[str, object]


class UsageError(ValueError):
    """The upstream's usage object is malformed (names the field)."""


@dataclass(frozen=True, slots=True)
class Usage:
    input_uncached: int = 0
    input_cached: int = 0  # cache reads
    cache_write: int = 0  # all tokens written to the cache ...
    cache_write_1h: int = 0  # ... of which written with the 1-hour TTL (the rest: 5-minute/default)
    reasoning_output: int = 0
    visible_output: int = 0
    total_reported: int | None = None  # the upstream's own total_tokens, as sent
    estimated: bool = False  # counted locally (usage missing), not reported by the upstream
    reported_cost: Decimal | None = None  # USD the upstream says it charged (OpenRouter `cost`)
    web_search_calls: int = 0

    def __post_init__(self) -> None:
        for name in ("input_uncached", "input_cached", "cache_write", "cache_write_1h"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} must be >= 0")
        if self.reasoning_output < 0 or self.visible_output < 0 or self.web_search_calls < 0:
            raise UsageError("output token counts must be >= 0")
        if self.cache_write_1h > self.cache_write:
            raise UsageError("cache_write_1h is part of cache_write and cannot exceed it")

    @property
    def input_total(self) -> int:
        """Every prompt token: the size that picks a long-context price tier."""
        return self.input_uncached + self.input_cached + self.cache_write

    @property
    def output_total(self) -> int:
        return self.reasoning_output + self.visible_output

    @property
    def total(self) -> int:
        return self.input_total + self.output_total


def estimated_usage(*, input_tokens: int, visible_output: int, reasoning_output: int = 0) -> Usage:
    """Usage counted locally because the upstream sent none; marked as an estimate."""
    return Usage(
        input_uncached=input_tokens,
        visible_output=visible_output,
        reasoning_output=reasoning_output,
        estimated=True,
    )


# The keys of OpenAI's chat usage: prompt and completion counts, then their details.
_CHAT_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
)


def usage_from_openai_chat(u: Payload) -> Usage:
    return _openai_like(u, *_CHAT_KEYS)


def usage_from_openai_responses(u: Payload) -> Usage:
    return _openai_like(
        u, "input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details"
    )


def usage_from_openrouter(u: Payload) -> Usage:
    """OpenAI chat counts plus `cost`; with BYOK the upstream's own charge is added to it."""
    base = usage_from_openai_chat(u)
    cost = _money(u.get("cost"), "cost")
    if cost is not None and u.get("is_byok") is True:
        upstream = _money(_get(u, "cost_details", "upstream_inference_cost"), "cost_details")
        cost += upstream or Decimal(0)
    return replace(base, reported_cost=cost)


def usage_from_xai(u: Payload) -> Usage:
    return _openai_like(u, *_CHAT_KEYS, reasoning_inside=False)


def usage_from_gemini_openai(u: Payload) -> Usage:
    """As xAI's; and when no `reasoning_tokens` come but the total is above prompt plus
    completion, the gap is the thoughts Gemini bills as output and left out of
    `completion_tokens` (an answer may carry no details object)."""
    usage = _openai_like(u, *_CHAT_KEYS, reasoning_inside=False)
    total = usage.total_reported
    if usage.reasoning_output or total is None:
        return usage
    gap = total - _count(u, "prompt_tokens") - _count(u, "completion_tokens")
    return replace(usage, reasoning_output=gap) if gap > 0 else usage


def usage_from_deepseek(u: Payload) -> Usage:
    prompt = _count(u, "prompt_tokens")
    hit = _count(u, "prompt_cache_hit_tokens")
    miss = _maybe_count(u, "prompt_cache_miss_tokens")
    uncached = miss if miss is not None else max(prompt - hit, 0)
    completion = _count(u, "completion_tokens")
    reasoning = _count(u, "completion_tokens_details", "reasoning_tokens")
    total = _maybe_count(u, "total_tokens")
    reasoning, visible = split_reasoning(prompt, completion, reasoning, total, inside=True)
    return Usage(
        input_uncached=uncached,
        input_cached=hit,
        reasoning_output=reasoning,
        visible_output=visible,
        total_reported=total,
    )


def usage_from_ollama(u: Payload) -> Usage:
    """No details: reasoning (if any) is inside completion_tokens and cannot be split out."""
    return Usage(
        input_uncached=_count(u, "prompt_tokens"),
        visible_output=_count(u, "completion_tokens"),
        total_reported=_maybe_count(u, "total_tokens"),
    )


def usage_from_anthropic(u: Payload) -> Usage:
    """Native Messages usage: input_tokens excludes cache reads and writes."""
    written = _count(u, "cache_creation_input_tokens")
    tier_5m = _count(u, "cache_creation", "ephemeral_5m_input_tokens")
    tier_1h = _count(u, "cache_creation", "ephemeral_1h_input_tokens")
    output = _count(u, "output_tokens")
    thinking = min(_count(u, "output_tokens_details", "thinking_tokens"), output)
    return Usage(
        input_uncached=_count(u, "input_tokens"),
        input_cached=_count(u, "cache_read_input_tokens"),
        cache_write=max(written, tier_5m + tier_1h),
        cache_write_1h=tier_1h,
        reasoning_output=thinking,
        visible_output=output - thinking,
        web_search_calls=_count(u, "server_tool_use", "web_search_requests"),
    )


def usage_from_anthropic_stream(start: Payload, last_delta: Payload | None) -> Usage:
    """`message_start.usage` merged with the last (cumulative) `message_delta.usage`."""
    merged = dict(start)
    for key, value in (last_delta or {}).items():
        if value is not None:
            merged[key] = value
    return usage_from_anthropic(merged)


def usage_from_gemini(u: Payload) -> Usage:
    """Native `usageMetadata`: thoughts are outside candidatesTokenCount."""
    prompt = _count(u, "promptTokenCount") + _count(u, "toolUsePromptTokenCount")
    cached = _count(u, "cachedContentTokenCount")
    return Usage(
        input_uncached=max(prompt - cached, 0),
        input_cached=cached,
        reasoning_output=_count(u, "thoughtsTokenCount"),
        visible_output=_count(u, "candidatesTokenCount"),
        total_reported=_maybe_count(u, "totalTokenCount"),
    )


PARSERS: Mapping[str, Callable[[Payload], Usage]] = {
    "openai_chat": usage_from_openai_chat,
    "openai_responses": usage_from_openai_responses,
    "anthropic": usage_from_anthropic,
    "gemini": usage_from_gemini,
    "gemini_openai": usage_from_gemini_openai,
    "deepseek": usage_from_deepseek,
    "openrouter": usage_from_openrouter,
    "ollama": usage_from_ollama,
    "xai": usage_from_xai,
}


def parse_usage(convention: str, payload: Payload) -> Usage:
    parser = PARSERS.get(convention)
    if parser is None:
        known = ", ".join(sorted(PARSERS))
        raise ValueError(f"unknown usage convention {convention!r} (known: {known})")
    if not isinstance(payload, Mapping):
        raise UsageError(f"usage must be a JSON object, got {type(payload).__name__}")
    return parser(payload)


def split_reasoning(
    prompt: int, completion: int, reasoning: int, total: int | None, *, inside: bool
) -> tuple[int, int]:
    """(reasoning, visible) so that reasoning is billed exactly once (see module docstring)."""
    if reasoning == 0:
        return 0, completion
    if total is not None and total == prompt + completion + reasoning:
        return reasoning, completion
    if total is not None and total == prompt + completion:
        inside = True
    elif reasoning > completion:
        inside = False
    if not inside:
        return reasoning, completion
    reasoning = min(reasoning, completion)
    return reasoning, completion - reasoning


def _openai_like(
    u: Payload,
    prompt_key: str,
    completion_key: str,
    prompt_details: str,
    completion_details: str,
    *,
    reasoning_inside: bool = True,
) -> Usage:
    prompt = _count(u, prompt_key)
    cached = _count(u, prompt_details, "cached_tokens")
    written = _count(u, prompt_details, "cache_write_tokens")
    completion = _count(u, completion_key)
    total = _maybe_count(u, "total_tokens")
    reasoning, visible = split_reasoning(
        prompt,
        completion,
        _count(u, completion_details, "reasoning_tokens"),
        total,
        inside=reasoning_inside,
    )
    return Usage(
        input_uncached=max(prompt - cached - written, 0),
        input_cached=min(cached, prompt),
        cache_write=min(written, max(prompt - cached, 0)),
        reasoning_output=reasoning,
        visible_output=visible,
        total_reported=total,
    )


def _get(obj: object, *path: str) -> object:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _maybe_count(obj: object, *path: str) -> int | None:
    value = _get(obj, *path)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise UsageError(f"usage.{'.'.join(path)} must be a token count, got {value!r}")
    try:
        whole = int(value)
    except (OverflowError, ValueError):
        whole = -1
    if whole < 0 or whole != value:
        raise UsageError(f"usage.{'.'.join(path)} must be a whole number >= 0, got {value!r}")
    return whole


def _count(obj: object, *path: str) -> int:
    return _maybe_count(obj, *path) or 0


def _money(value: object, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise UsageError(f"usage.{name} must be a number of USD, got {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise UsageError(f"usage.{name} must be a number of USD, got {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise UsageError(f"usage.{name} must be >= 0, got {value!r}")
    return amount
