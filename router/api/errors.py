"""Every failure leaves as an OpenAI-shaped error body; no traceback ever reaches a client
(router/api/edge.py turns exceptions into these responses)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from router.api.json import json_response
from router.errors import ProxyError, error_body

PUBLIC_PATHS = "/v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings and /v1/models"
OTHER_PATHS = "GET /healthz, /readyz, /metrics, /openapi.json; /admin/... with the master key"


def proxy_error_response(exc: ProxyError) -> Response:
    return json_response(exc.body(), status=exc.status, headers=exc.headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = error_body(
            f"Unknown path {request.url.path}: this proxy serves {PUBLIC_PATHS} (and "
            f"{OTHER_PATHS}).",
            "invalid_request_error",
            "unknown_url",
        )
    elif exc.status_code == 405:
        body = error_body(
            f"Method {request.method} is not allowed on {request.url.path}.",
            "invalid_request_error",
            "method_not_allowed",
        )
    else:
        body = error_body(str(exc.detail), "invalid_request_error", None)
    return json_response(body, status=exc.status_code, headers=exc.headers)
