"""Fault knobs: what can go wrong on purpose, set per model (config) or per request (`sim.fault`).

knob                      effect
status (+ message)        answer with that HTTP status and an OpenAI error body
retry_after_s             with `status`: send a `retry-after` header
fail_first                with `status`: only the first N identical requests fail
disconnect_after_chunks   close the connection after N chunks (non-streaming: mid-body)
slow_first_byte_ms        wait this long before sending the status line and headers
idle_after_chunks/idle_ms stall mid-stream after N chunks for M milliseconds
malformed_sse             a garbage, non-JSON `data:` line mid-stream
malformed_json            non-streaming 200 whose JSON body is cut short
error_body_200            status 200 whose body (or only event) is an OpenAI error object
no_done                   the stream ends cleanly without `data: [DONE]`
no_usage                  no usage anywhere (body, usage chunk)
usage_on_last_content_chunk  streams: usage rides on the last chunk with choices (the one with
                          `finish_reason`) instead of a chunk of its own, as some hosts send it
reasoning_apart_usage     `completion_tokens` counts the visible answer only, reasoning
                          (`reasoning_tokens`) beside it, as Gemini's OpenAI endpoint and xAI count
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.sim.fields import (
    FieldError,
    join,
    reject_unknown,
    want_bool,
    want_int,
    want_mapping,
    want_str,
)


@dataclass(frozen=True)
class Faults:
    status: int | None = None
    message: str = "The simulated upstream failed on purpose."
    retry_after_s: int | None = None
    fail_first: int | None = None
    disconnect_after_chunks: int | None = None
    slow_first_byte_ms: int = 0
    idle_after_chunks: int | None = None
    idle_ms: int = 0
    malformed_sse: bool = False
    malformed_json: bool = False
    error_body_200: bool = False
    no_done: bool = False
    no_usage: bool = False
    usage_on_last_content_chunk: bool = False
    reasoning_apart_usage: bool = False

    def active(self) -> tuple[str, ...]:
        """Names of the knobs that change behaviour, for the request log."""
        names = []
        for field in dataclasses.fields(self):
            if field.name == "message":
                continue
            if getattr(self, field.name) != field.default:
                names.append(field.name)
        return tuple(names)


NO_FAULTS = Faults()

_INT_KNOBS = frozenset(
    {
        "retry_after_s",
        "fail_first",
        "disconnect_after_chunks",
        "slow_first_byte_ms",
        "idle_after_chunks",
        "idle_ms",
    }
)
_BOOL_KNOBS = frozenset(
    {
        "malformed_sse",
        "malformed_json",
        "error_body_200",
        "no_done",
        "no_usage",
        "usage_on_last_content_chunk",
        "reasoning_apart_usage",
    }
)
KNOBS = frozenset({"status", "message"}) | _INT_KNOBS | _BOOL_KNOBS


def parse_faults(raw: Any, path: str) -> dict[str, Any]:
    """Validate a fault mapping; return only the knobs it sets, ready for `apply_faults`."""
    value = want_mapping(raw, path)
    reject_unknown(value, KNOBS, path)
    knobs: dict[str, Any] = {}
    for key, item in value.items():
        where = join(path, key)
        if key == "status":
            knobs[key] = want_int(item, where, minimum=400, maximum=599)
        elif key == "message":
            knobs[key] = want_str(item, where)
        elif key in _INT_KNOBS:
            knobs[key] = want_int(item, where)
        else:
            knobs[key] = want_bool(item, where)
    if knobs.get("malformed_json") and knobs.get("error_body_200"):
        raise FieldError(path, "malformed_json and error_body_200 cannot be combined")
    return knobs


def apply_faults(base: Faults, knobs: Mapping[str, Any]) -> Faults:
    """`base` with the given knobs replaced (a request's fault overrides its model's)."""
    return dataclasses.replace(base, **knobs) if knobs else base
