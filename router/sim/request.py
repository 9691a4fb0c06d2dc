"""A chat completion request, read and checked into the few facts the simulator acts on."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from router.errors import InvalidRequest
from router.sim.catalog import CATEGORIES, SimModel
from router.sim.category import categorize
from router.sim.effort import resolve_effort
from router.sim.faults import Faults, apply_faults, parse_faults
from router.sim.fields import FieldError, reject_unknown, want_int, want_mapping, want_str
from router.sim.words import estimate_tokens

# Left out of the content hash: how the answer is delivered, and the reasoning knobs (the
# resolved effort scales the same draw instead, so low < medium < high for one prompt and a
# host that ignores effort answers byte for byte the same).
_UNHASHED = frozenset(
    {"stream", "stream_options", "sim", "reasoning_effort", "reasoning", "chat_template_kwargs"}
)
_OVERRIDES = frozenset(
    {
        "category",
        "ttft_ms",
        "inter_chunk_ms",
        "tokens_per_chunk",
        "completion_tokens",
        "cached_tokens",
        "fault",
    }
)
_CACHE_MIN_TOKENS = 1024
_CACHE_BLOCK = 128


@dataclass(frozen=True)
class Tool:
    name: str
    parameters: Any


@dataclass(frozen=True)
class ChatRequest:
    model: SimModel
    digest: bytes
    n: int
    stream: bool
    include_usage: bool
    max_tokens: int | None
    logprobs: bool
    top_logprobs: int
    effort: str | None
    category: str
    prompt_tokens: int
    cached_tokens: int
    tool: Tool | None
    response_format: str
    json_schema: Any
    answer_tokens: int | None
    ttft_ms: int
    inter_chunk_ms: int
    tokens_per_chunk: int
    fault: Faults


def parse_chat(body: Mapping[str, Any], model: SimModel, seed: int) -> ChatRequest:
    """Check `body` (already known to name `model`) and read what the simulation needs."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    if not all(isinstance(m, Mapping) for m in messages):
        raise InvalidRequest("Each message must be an object.", param="messages")
    sim = _overrides(body.get("sim"))
    logprobs = _flag(body, "logprobs")
    top = _int(body, "top_logprobs", 0, 0, 20)
    if top and not logprobs:
        raise InvalidRequest("logprobs must be true when top_logprobs is set.", param="logprobs")
    prompt_tokens = _prompt_tokens(messages, body.get("tools"))
    if prompt_tokens > model.context_window:
        raise InvalidRequest(
            f"This model's maximum context length is {model.context_window} tokens, "
            f"but the messages resulted in {prompt_tokens} tokens.",
            param="messages",
            code="context_length_exceeded",
        )
    stream_options = body.get("stream_options")
    fmt, schema = _response_format(body.get("response_format"))
    category = sim.get("category") or categorize(_last_user_text(messages))
    return ChatRequest(
        model=model,
        digest=_digest(body, seed),
        n=_int(body, "n", 1, 1, 128),
        stream=_flag(body, "stream"),
        include_usage=isinstance(stream_options, Mapping)
        and stream_options.get("include_usage") is True,
        max_tokens=_max_tokens(body),
        logprobs=logprobs,
        top_logprobs=top,
        effort=resolve_effort(model, body),
        category=category,
        prompt_tokens=prompt_tokens,
        cached_tokens=min(prompt_tokens, sim.get("cached_tokens", _cached_prefix(messages))),
        tool=_tool_to_call(body, messages),
        response_format=fmt,
        json_schema=schema,
        answer_tokens=sim.get("completion_tokens"),
        ttft_ms=sim.get("ttft_ms", model.ttft_ms),
        inter_chunk_ms=sim.get("inter_chunk_ms", model.inter_chunk_ms),
        tokens_per_chunk=sim.get("tokens_per_chunk", model.tokens_per_chunk),
        fault=apply_faults(model.fault, sim.get("fault", {})),
    )


def _digest(body: Mapping[str, Any], seed: int) -> bytes:
    """Hash of the seed and everything that shapes the answer (not how it is delivered)."""
    content = {k: v for k, v in body.items() if k not in _UNHASHED}
    payload = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(
        payload, digest_size=16, key=seed.to_bytes(8, "big", signed=True)
    ).digest()


def _overrides(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = want_mapping(raw, "sim")
        reject_unknown(value, _OVERRIDES, "sim")
        found: dict[str, Any] = {}
        for key, item in value.items():
            if key == "category":
                found[key] = want_str(item, "sim.category", choices=CATEGORIES)
            elif key == "fault":
                found[key] = parse_faults(item, "sim.fault")
            else:
                found[key] = want_int(
                    item, f"sim.{key}", minimum=1 if key == "tokens_per_chunk" else 0
                )
    except FieldError as error:
        raise InvalidRequest(str(error), param=error.path) from error
    return found


def _flag(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{key}' must be a boolean.", param=key, code="invalid_type")
    return value


def _int(body: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(
            f"'{key}' must be an integer from {low} to {high}.", param=key, code="invalid_value"
        )
    return value


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        if body.get(key) is not None:
            return _int(body, key, 0, 1, 10_000_000)
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def _image_tokens(content: Any) -> int:
    """Image parts as OpenAI bills a 1024 x 1024 image: 765 tokens at high detail (85 + 4 tiles
    of 170), 85 at `detail: low`."""
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if isinstance(part, Mapping) and part.get("type") == "image_url":
            inner = part.get("image_url")
            low = isinstance(inner, Mapping) and inner.get("detail") == "low"
            total += 85 if low else 765
    return total


def _message_tokens(message: Mapping[str, Any]) -> int:
    content = message.get("content")
    tokens = 3 + estimate_tokens(_text(content)) + _image_tokens(content)
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        tokens += estimate_tokens(orjson.dumps(calls).decode())
    return tokens


def _prompt_tokens(messages: list[Mapping[str, Any]], tools: Any) -> int:
    tokens = 3 + sum(_message_tokens(m) for m in messages)
    if isinstance(tools, list):
        tokens += estimate_tokens(orjson.dumps(tools).decode())
    return tokens


def _cached_prefix(messages: list[Mapping[str, Any]]) -> int:
    """Earlier turns of a long conversation count as a cache hit (OpenAI: 1024+, 128 steps)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    prefix = sum(_message_tokens(m) for m in messages[:last_user])
    return (prefix // _CACHE_BLOCK) * _CACHE_BLOCK if prefix >= _CACHE_MIN_TOKENS else 0


def _last_user_text(messages: list[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _tool_to_call(body: Mapping[str, Any], messages: list[Mapping[str, Any]]) -> Tool | None:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list) or not tools:
        raise InvalidRequest("'tools' must be a non-empty array.", param="tools")
    declared: dict[str, Tool] = {}
    for index, entry in enumerate(tools):
        function = entry.get("function") if isinstance(entry, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(name, str) or not name:
            raise InvalidRequest(
                f"tools[{index}] must be a function with a name.", param=f"tools[{index}]"
            )
        declared.setdefault(name, Tool(name, function.get("parameters", {})))
    choice = body.get("tool_choice", "auto")
    if choice == "none" or messages[-1].get("role") != "user":
        return None
    if choice in ("auto", "required"):
        return next(iter(declared.values()))
    named = choice.get("function") if isinstance(choice, Mapping) else None
    name = named.get("name") if isinstance(named, Mapping) else None
    if not isinstance(name, str) or name not in declared:
        raise InvalidRequest(
            "tool_choice must be 'none', 'auto', 'required' or name a declared function.",
            param="tool_choice",
        )
    return declared[name]


def _response_format(raw: Any) -> tuple[str, Any]:
    if raw is None:
        return "text", None
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    if kind in ("text", "json_object"):
        return kind, None
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema", {}), Mapping):
            raise InvalidRequest(
                "response_format.json_schema must be an object with a 'schema' object.",
                param="response_format.json_schema",
            )
        return "json_schema", spec.get("schema", {})
    raise InvalidRequest(
        "response_format.type must be 'text', 'json_object' or 'json_schema'.",
        param="response_format",
    )
