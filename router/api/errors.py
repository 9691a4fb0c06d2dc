"""Every failure leaves as an OpenAI-shaped error body; no traceback ever reaches a client.

Also the request-id middleware: each response carries `x-request-id`, the proxy's own id.
"""

from __future__ import annotations

import itertools
import logging
import os

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.api.json import json_response
from router.errors import InternalError, ProxyError, error_body

log = logging.getLogger("tokenwise")


def proxy_error_response(exc: ProxyError) -> Response:
    return json_response(exc.body(), status=exc.status, headers=exc.headers)


async def on_proxy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProxyError)
    return proxy_error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        body = error_body(
            f"Unknown path {request.url.path}: this proxy serves /v1/chat/completions, "
            "/v1/embeddings and /v1/models.",
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


async def on_unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("tokenwise.request_id", "-")
    log.exception("unhandled error in request %s", request_id)
    return proxy_error_response(
        InternalError(f"The proxy failed to handle this request (request id {request_id}).")
    )


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Unique across processes and restarts (random prefix), cheap per request (a counter).
        self._prefix = "req_" + os.urandom(6).hex()
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Always the proxy's own id: it keys the ledger, so a client cannot make two requests
        # share one record by sending the same id.
        request_id = self._prefix + format(next(self._counter), "x")
        scope["tokenwise.request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
