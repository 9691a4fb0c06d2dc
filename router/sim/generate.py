"""The simulated answer: token counts drawn from the model's profile, text laid out per dialect.

Pure: the same ChatRequest always gives the same Completion. Each choice has its own random
generator seeded from the request digest and its index. The first two draws are standard
normals for the reasoning and answer lengths; effort scales the log-normal mean, so one prompt
at high effort thinks exactly EFFORT_SCALE["high"] / EFFORT_SCALE["low"] times longer than at low.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

import orjson

from router.sim.catalog import EFFORT_SCALE, SimModel
from router.sim.request import ChatRequest, Tool
from router.sim.schemas import instance
from router.sim.words import answer_pieces, estimate_tokens, reasoning_pieces, split_text

_REASONING_FIELD = {"reasoning_field": "reasoning", "reasoning_content": "reasoning_content"}
_THINK_OPEN = ("<think>", "\n")
_THINK_CLOSE = ("\n", "</think>", "\n\n")
_HARMONY_OPEN = ("<|channel|>", "analysis", "<|message|>")
_HARMONY_CLOSE = ("<|end|>", "<|start|>", "assistant", "<|channel|>", "final", "<|message|>")
_JSON_OBJECT_WORDS = 12
_CREATED_BASE = 1_750_000_000


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Choice:
    index: int
    segments: tuple[tuple[str, tuple[str, ...]], ...]
    """(delta field, text pieces) in emission order: `reasoning`/`reasoning_content`/`content`."""
    tool_call: ToolCall | None
    finish_reason: str
    reasoning_tokens: int
    completion_tokens: int

    def text(self, name: str) -> str | None:
        pieces = [p for field, segment in self.segments if field == name for p in segment]
        return "".join(pieces) if pieces else None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    id: str
    created: int
    fingerprint: str
    choices: tuple[Choice, ...]
    usage: Usage


def complete(request: ChatRequest, seed: int) -> Completion:
    limit = request.model.context_window - request.prompt_tokens
    if request.max_tokens is not None:
        limit = min(limit, request.max_tokens)
    choices = tuple(_choice(request, index, limit) for index in range(request.n))
    usage = Usage(
        prompt_tokens=request.prompt_tokens,
        cached_tokens=request.cached_tokens,
        completion_tokens=sum(c.completion_tokens for c in choices),
        reasoning_tokens=sum(c.reasoning_tokens for c in choices),
    )
    return Completion(
        id="chatcmpl-" + _hex(request.digest, str(request.effort), 13),
        created=_CREATED_BASE + seed % 1_000_000,
        fingerprint="fp_sim_" + _hex(request.model.name.encode(), str(seed), 5),
        choices=choices,
        usage=usage,
    )


def _hex(digest: bytes, salt: str, size: int) -> str:
    return hashlib.blake2b(digest + salt.encode(), digest_size=size).hexdigest()


def _choice(request: ChatRequest, index: int, limit: int) -> Choice:
    rng = random.Random(request.digest + index.to_bytes(2, "big"))
    reasoning_draw, answer_draw = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
    profile = request.model.profiles.for_category(request.category)
    scale = EFFORT_SCALE[request.effort] if request.effort else 0.0
    thought = _lognormal(
        reasoning_draw, profile.reasoning_mean * scale, profile.reasoning_spread * scale
    )
    if request.answer_tokens is not None:
        answer_length = request.answer_tokens
    else:
        answer_length = _lognormal(answer_draw, profile.answer_mean, profile.answer_spread)
    reasoning = reasoning_pieces(rng, thought)
    if request.tool is not None:
        return _tool_choice(request, index, limit, rng, reasoning, request.tool)
    answer = _answer(request, rng, answer_length)
    full = _layout(request.model, reasoning, answer)
    segments, cut = _truncate(full, limit)
    return Choice(
        index=index,
        segments=segments,
        tool_call=None,
        finish_reason="length" if cut else "stop",
        reasoning_tokens=_reasoning_kept(request.model, len(reasoning), segments),
        completion_tokens=_count(segments),
    )


def _lognormal(draw: float, mean: float, spread: float) -> int:
    """A log-normal length with this mean and spread, capped at mean + 4 spreads."""
    if mean <= 0:
        return 0
    if spread <= 0:
        return max(1, round(mean))
    sigma = math.sqrt(math.log1p((spread / mean) ** 2))
    value = math.exp(math.log(mean) - sigma * sigma / 2 + sigma * draw)
    return max(1, round(min(value, mean + 4 * spread)))


def _answer(request: ChatRequest, rng: random.Random, length: int) -> list[str]:
    if request.response_format == "json_schema":
        return split_text(orjson.dumps(instance(request.json_schema, rng)).decode(), 4)
    if request.response_format == "json_object":
        words = "".join(answer_pieces(rng, min(max(length, 1), _JSON_OBJECT_WORDS)))
        return split_text(orjson.dumps({"answer": words}).decode(), 4)
    return answer_pieces(rng, length)


def _layout(
    model: SimModel, reasoning: list[str], answer: list[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Where the reasoning goes: its own field, inline `<think>`, or leaked Harmony markup."""
    if not reasoning:
        return (("content", tuple(answer)),)
    if model.dialect in _REASONING_FIELD:
        return ((_REASONING_FIELD[model.dialect], tuple(reasoning)), ("content", tuple(answer)))
    if model.dialect == "think_tags":
        return (("content", (*_THINK_OPEN, *reasoning, *_THINK_CLOSE, *answer)),)
    if model.dialect == "think_opened":
        return (("content", (*reasoning, *_THINK_CLOSE, *answer)),)
    if not answer:
        return (("content", (*_HARMONY_OPEN, *reasoning, _HARMONY_CLOSE[0])),)
    return (("content", (*_HARMONY_OPEN, *reasoning, *_HARMONY_CLOSE, *answer)),)


def _truncate(
    segments: tuple[tuple[str, tuple[str, ...]], ...], limit: int
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], bool]:
    """The first `limit` pieces, and whether anything was cut (finish_reason `length`)."""
    kept: list[tuple[str, tuple[str, ...]]] = []
    room = limit
    for name, pieces in segments:
        if room > 0 or not pieces:
            kept.append((name, pieces[:room]))
        room -= len(pieces)
    return tuple(kept), room < 0


def _count(segments: tuple[tuple[str, tuple[str, ...]], ...]) -> int:
    return sum(len(pieces) for _, pieces in segments)


def _reasoning_kept(
    model: SimModel, reasoning: int, segments: tuple[tuple[str, tuple[str, ...]], ...]
) -> int:
    if model.dialect in _REASONING_FIELD:
        field = _REASONING_FIELD[model.dialect]
        return sum(len(pieces) for name, pieces in segments if name == field)
    if not reasoning:
        return 0
    opening = {"think_tags": len(_THINK_OPEN), "think_opened": 0}.get(
        model.dialect, len(_HARMONY_OPEN)
    )
    return max(0, min(reasoning, _count(segments) - opening))


def _tool_choice(
    request: ChatRequest,
    index: int,
    limit: int,
    rng: random.Random,
    reasoning: list[str],
    tool: Tool,
) -> Choice:
    arguments = orjson.dumps(instance(tool.parameters, rng)).decode()
    segments, _ = _truncate(_layout(request.model, reasoning, []), limit)
    used = _count(segments)
    room = max(0, limit - used)
    cut = estimate_tokens(arguments) > room
    if cut:
        arguments = arguments[: room * 4]
    call_id = "call_" + _hex(request.digest, f"call{index}", 12)
    return Choice(
        index=index,
        segments=segments,
        tool_call=ToolCall(id=call_id, name=tool.name, arguments=arguments),
        finish_reason="length" if cut else "tool_calls",
        reasoning_tokens=_reasoning_kept(request.model, len(reasoning), segments),
        completion_tokens=used + estimate_tokens(arguments),
    )
