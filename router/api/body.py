"""Read a request body within the size limit and check the few fields the proxy relies on.

Only what the proxy itself needs is validated here (`model`, `messages`, `stream`, and a
nesting depth it can serialise again); the types and ranges of the common OpenAI fields are
checked by `router.api.fields`, and everything else is the upstream's to judge, forwarded
untouched.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, NamedTuple

import orjson
from starlette.requests import Request

from router.auth import Principal
from router.errors import BodyTooLarge, InvalidRequest, RequestTimeout
from router.services import Services, services_of

# Nesting deeper than this is refused: no request needs it, and the proxy must be able to
# serialise what it forwards (orjson's encoder stops at 254 levels, its decoder at 1024).
MAX_DEPTH = 128


async def read_body(request: Request, limit: int, seconds: float | None = None) -> bytes:
    """The body, at most `limit` bytes, all of it within `seconds`: a client that stops
    sending would hold its connection and its in-flight slot for ever."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        of = f" of {declared}" if declared is not None else ""
        raise RequestTimeout(
            f"The request body did not arrive within {seconds:g} s ({size}{of} bytes came). "
            "Send the whole body at once, or raise server.body_timeout_seconds."
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The request body is larger than this proxy accepts ({limit} bytes). "
        "Send a smaller request, or raise server.body_limit_bytes."
    )


async def read_json_object(
    request: Request, limit: int, seconds: float | None = None
) -> dict[str, Any]:
    raw = await read_body(request, limit, seconds)
    if not raw:
        raise InvalidRequest("The request body is empty: send a JSON object.", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if raw[:2] == b"\x1f\x8b":
            reason = "it is gzip-compressed; send it uncompressed"
        elif "UTF-8" in str(exc):
            reason = "it is not UTF-8 text"
        else:
            reason = str(exc)
        raise InvalidRequest(
            f"We could not parse the JSON body of your request ({reason}). "
            "Send a valid UTF-8 JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest(
            f"The request body must be a JSON object, not {json_type(body)}.",
            code="invalid_json",
        )
    # Only a body with that many brackets can be that deep: a cheap count spares the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and too_deep(body, MAX_DEPTH):
        raise InvalidRequest(
            f"The JSON body is nested more than {MAX_DEPTH} levels deep.", code="invalid_json"
        )
    return body


def too_deep(value: Any, limit: int) -> bool:
    """True when arrays and objects in `value` nest deeper than `limit` (an iterative walk over
    what `orjson.loads` builds: exact dicts and lists, told apart by type, not isinstance)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > limit:
            return True
        below = depth + 1
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is dict or kind is list:
                push((child, below))
    return False


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise InvalidRequest(
            "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    if not isinstance(model, str):
        raise InvalidRequest(
            f"Invalid type for 'model': expected a string, got {json_type(model)}.",
            param="model",
            code="invalid_type",
        )
    if not model:
        raise InvalidRequest(
            "Invalid 'model': the string is empty; name a model (GET /v1/models lists them).",
            param="model",
            code="invalid_value",
        )
    return model


class Incoming(NamedTuple):
    """What every model endpoint starts from: when the request began, the app's services, who
    sent it, its JSON body and the model it names."""

    started: float
    services: Services
    principal: Principal
    body: dict[str, Any]
    model: str


async def incoming(request: Request) -> Incoming:
    """Authenticate, read the body within the limit and require a model (in that order: a
    request without a valid key gets a 401 before its body is read)."""
    started = time.perf_counter()
    services = services_of(request)
    principal = services.auth.authenticate(request.headers.get("authorization"))
    timeout = services.settings.config.server.body_timeout_seconds
    body = await read_json_object(request, services.body_limit, timeout)
    return Incoming(started, services, principal, body, require_model(body))


def require_present(body: dict[str, Any], name: str) -> Any:
    """The value of a required parameter (any JSON value but null)."""
    value = body.get(name)
    if value is None:
        raise InvalidRequest(
            f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
        )
    return value


def require_messages(body: dict[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequest(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    if not isinstance(messages, list):
        raise InvalidRequest(
            f"Invalid type for 'messages': expected an array of message objects, "
            f"got {json_type(messages)}.",
            param="messages",
            code="invalid_type",
        )
    if not messages:
        raise InvalidRequest(
            "Invalid 'messages': the array is empty; send at least one message.",
            param="messages",
            code="invalid_value",
        )
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise InvalidRequest(
                f"Invalid type for 'messages[{i}]': expected an object, got {json_type(m)}.",
                param=f"messages[{i}]",
                code="invalid_type",
            )
        if not isinstance(m.get("role"), str):
            raise InvalidRequest(
                f"Invalid 'messages[{i}].role': expected a string such as 'user'.",
                param=f"messages[{i}].role",
                code="invalid_type" if "role" in m else "missing_required_parameter",
            )
    return messages


def stream_flag(body: dict[str, Any]) -> bool:
    stream = body.get("stream", False)
    if stream is None:
        return False
    if not isinstance(stream, bool):
        raise InvalidRequest(
            f"Invalid type for 'stream': expected a boolean, got {json_type(stream)}.",
            param="stream",
            code="invalid_type",
        )
    return stream


def json_type(value: Any) -> str:
    """How an error message names a JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
