"""Turn what an upstream sent back into the error the client sees (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from router.errors import ProxyError, UpstreamProtocolError, UpstreamStatus

PASSED_HEADERS = ("retry-after", "retry-after-ms")


def _error_object(data: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed, dict):
        err = parsed.get("error")
        if isinstance(err, dict):
            return err
        if isinstance(err, str):
            return {"message": err}
    return None


def status_error(
    status: int, data: bytes, headers: Mapping[str, str], provider: str
) -> UpstreamStatus:
    """An upstream error status, passed through with the upstream's own message."""
    passed = {h: headers[h] for h in PASSED_HEADERS if h in headers}
    err = _error_object(data)
    if err is not None and isinstance(err.get("message"), str):
        passed_on = UpstreamStatus(
            status,
            err["message"],
            type=err.get("type") if isinstance(err.get("type"), str) else None,
            param=err.get("param") if isinstance(err.get("param"), str) else None,
            headers=passed,
        )
        # the upstream's own code, null included (OpenAI's errors often have none)
        passed_on.code = str(err["code"]) if err.get("code") is not None else None
        return passed_on
    text = data[:500].decode("utf-8", "replace").strip() or "(empty body)"
    return UpstreamStatus(
        status, f"The upstream provider '{provider}' answered {status}: {text}", headers=passed
    )


def check_json_body(data: bytes, provider: str) -> dict[str, Any] | ProxyError:
    """The JSON object in `data` when it is one without an `error`; else the error to answer."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return UpstreamProtocolError(
            f"The upstream provider '{provider}' sent a response that is not valid JSON."
        )
    if not isinstance(parsed, dict):
        return UpstreamProtocolError(
            f"The upstream provider '{provider}' sent JSON that is not an object."
        )
    err = parsed.get("error")
    if err is not None:
        message = err.get("message") if isinstance(err, dict) else str(err)
        return UpstreamProtocolError(
            f"The upstream provider '{provider}' answered 200 with an error: {message}"
        )
    return parsed
