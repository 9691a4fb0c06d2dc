"""A Completion in OpenAI's wire format: one JSON body, or the chunks of an SSE stream. Pure."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import zip_longest
from typing import Any

import orjson

from router.sim.generate import Choice, Completion, Usage
from router.sim.request import ChatRequest
from router.sim.words import ANSWER_WORDS

_ARGUMENT_CHARS_PER_TOKEN = 4


def usage_body(usage: Usage, details: bool, reasoning_apart: bool = False) -> dict[str, Any]:
    """OpenAI's usage object; `reasoning_apart`: `completion_tokens` without the reasoning (as
    Gemini's OpenAI endpoint and xAI count), the total still with it."""
    completion = usage.completion_tokens - (usage.reasoning_tokens if reasoning_apart else 0)
    body: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": usage.total_tokens,
    }
    if details:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens, "audio_tokens": 0}
        body["completion_tokens_details"] = {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    return body


def completion_body(completion: Completion, request: ChatRequest, model: str) -> dict[str, Any]:
    """The non-streaming `chat.completion` object."""
    body: dict[str, Any] = {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": model,
        "choices": [_choice_body(choice, request) for choice in completion.choices],
        "service_tier": "default",
        "system_fingerprint": completion.fingerprint,
    }
    if not request.fault.no_usage:
        details = request.model.dialect != "usage_no_details"
        apart = request.fault.reasoning_apart_usage
        body["usage"] = usage_body(completion.usage, details, apart)
    return body


def _choice_body(choice: Choice, request: ChatRequest) -> dict[str, Any]:
    content = choice.text("content")
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content if content is not None or choice.tool_call else "",
        "refusal": None,
        "annotations": [],
    }
    for name in ("reasoning_content", "reasoning"):
        text = choice.text(name)
        if text is not None:
            message[name] = text
    if choice.tool_call is not None:
        call = choice.tool_call
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
        ]
    logprobs = None
    if request.logprobs:
        logprobs = {"content": _logprobs(choice, request), "refusal": None}
    return {
        "index": choice.index,
        "message": message,
        "logprobs": logprobs,
        "finish_reason": choice.finish_reason,
    }


def _logprobs(choice: Choice, request: ChatRequest) -> list[dict[str, Any]]:
    """Log-probabilities for each content piece, with `top_logprobs` alternatives."""
    rng = random.Random(request.digest + b"logprobs" + choice.index.to_bytes(2, "big"))
    entries = []
    for field, pieces in choice.segments:
        if field != "content":
            continue
        for piece in pieces:
            chosen = -round(abs(rng.gauss(0.0, 0.4)), 6)
            top = [_entry(piece, chosen)]
            floor = chosen
            while len(top) < request.top_logprobs:
                floor = round(floor - 0.5 - rng.random() * 2, 6)
                top.append(_entry(rng.choice(ANSWER_WORDS), floor))
            entries.append({**_entry(piece, chosen), "top_logprobs": top})
    return entries


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def stream_chunks(completion: Completion, request: ChatRequest, model: str) -> Iterator[bytes]:
    """Every `data:` event of the stream, in order, without the final `[DONE]`."""
    base: dict[str, Any] = {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": completion.fingerprint,
    }
    with_usage = request.include_usage and not request.fault.no_usage
    if with_usage:
        base["usage"] = None
    on_last = with_usage and request.fault.usage_on_last_content_chunk
    per_choice = [_choice_deltas(choice, request) for choice in completion.choices]
    held: dict[str, Any] | None = None  # one chunk behind, so usage can ride on the last one
    for row in zip_longest(*per_choice):
        for delta in row:
            if delta is not None:
                if held is not None:
                    yield _event(held)
                held = {**base, "choices": [delta]}
    usage = None
    if with_usage:
        details = request.model.dialect != "usage_no_details"
        usage = usage_body(completion.usage, details, request.fault.reasoning_apart_usage)
    if held is not None:
        yield _event({**held, "usage": usage} if on_last else held)
    if usage is not None and not on_last:
        yield _event({**base, "choices": [], "usage": usage})


def _event(chunk: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def _choice_deltas(choice: Choice, request: ChatRequest) -> Iterator[dict[str, Any]]:
    size = request.tokens_per_chunk
    logprobs = _logprobs(choice, request) if request.logprobs else []
    yield _delta(choice.index, {"role": "assistant", "content": "", "refusal": None})
    done = 0
    for field, pieces in choice.segments:
        for start in range(0, len(pieces), size):
            text = "".join(pieces[start : start + size])
            lp = None
            if field == "content" and request.logprobs:
                lp = {"content": logprobs[done : done + size], "refusal": None}
                done += size
            yield _delta(choice.index, {field: text}, logprobs=lp)
    if choice.tool_call is not None:
        call = choice.tool_call
        function = {"name": call.name, "arguments": ""}
        first = {"index": 0, "id": call.id, "type": "function", "function": function}
        yield _delta(choice.index, {"tool_calls": [first]})
        step = size * _ARGUMENT_CHARS_PER_TOKEN
        for start in range(0, len(call.arguments), step):
            fragment = {"arguments": call.arguments[start : start + step]}
            yield _delta(choice.index, {"tool_calls": [{"index": 0, "function": fragment}]})
    yield _delta(choice.index, {}, finish_reason=choice.finish_reason)


def _delta(
    index: int,
    delta: dict[str, Any],
    *,
    logprobs: dict[str, Any] | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
