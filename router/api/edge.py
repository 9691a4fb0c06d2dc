"""The edge: the one ASGI layer between the HTTP server and the endpoints.

For every HTTP request it
- gives the request the proxy's own id (`scope["tokenwise.request_id"]`, `x-request-id` on the
  response): always the proxy's, since it keys the ledger and a client must not make two
  requests share one record by sending the same id;
- counts a model call (`POST /v1/...`) against load shedding: past
  `reliability.max_in_flight` requests at once it answers 503 `overloaded` at once, and a
  request counts until its last byte is sent (a stream for as long as it streams);
- resolves the API key of a `/v1/` request before the handler runs (store lookups are async;
  the handler's synchronous `Authenticator.authenticate` finds the answer in its task's
  context);
- turns every exception raised before the response starts into an OpenAI-shaped error: a
  `ProxyError` into its own status and body, Starlette's 404/405 into `unknown_url` and
  `method_not_allowed`, anything else into a logged 500 whose body names the request id and no
  traceback.

Endpoints with a fixed path are called directly, found by one dict lookup; the others (path
parameters), unknown paths and methods, and the lifespan go through Starlette's router. This
replaces a stack of five middlewares and Starlette's per-route wrappers, each of which wrapped
`send` and added a coroutine frame to every request.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.api.errors import on_http_error, proxy_error_response
from router.api.stopping import shutdown_error, stopped_by_shutdown
from router.auth import forget_resolved, resolve_for_request
from router.errors import InternalError, ProxyError
from router.reliability.shed import overloaded

log = logging.getLogger("tokenwise")

ID_HEADER = b"x-request-id"


class Sendable(Protocol):
    raw_headers: list[tuple[bytes, bytes]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


Endpoint = Callable[[Request], Awaitable[Sendable]]


async def error_response(request: Request, exc: Exception) -> Sendable:
    """The OpenAI-shaped answer to an exception raised before a response started."""
    if isinstance(exc, ProxyError):
        return proxy_error_response(exc)
    if isinstance(exc, HTTPException):
        return await on_http_error(request, exc)
    request_id = request.scope.get("tokenwise.request_id", "-")
    log.error("unhandled error in request %s", request_id, exc_info=exc)
    failure = InternalError(f"The proxy failed to handle this request (request id {request_id}).")
    return proxy_error_response(failure)


class Edge:
    """`endpoints`: (method, path) -> handler for the fixed paths; `router`: everything else."""

    def __init__(self, router: ASGIApp, endpoints: Mapping[tuple[str, str], Endpoint]) -> None:
        self.router = router
        self.endpoints = dict(endpoints)
        # Unique across processes and restarts (random prefix), cheap per request (a counter).
        self._prefix = "req_" + os.urandom(6).hex()
        self._counter = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, _quiet_failure(scope, send))  # the lifespan
            return
        request_id = self._prefix + format(next(self._counter), "x")
        scope["tokenwise.request_id"] = request_id
        header = (ID_HEADER, request_id.encode("latin-1"))
        path: str = scope["path"]
        model_call = path[:4] == "/v1/"
        services = getattr(scope["app"].state, "services", None)
        rel = None
        if model_call and services is not None and scope["method"] == "POST":
            rel = services.reliability
            if not rel.enter():
                services.metrics.error_answer(path, 503, "overloaded")
                refusal = proxy_error_response(overloaded(rel.config))
                refusal.raw_headers.append(header)
                await refusal(scope, receive, send)
                return
        token = None
        try:
            if model_call and services is not None:
                authorization = _authorization(scope)
                if authorization is not None:
                    token = await resolve_for_request(services.auth, authorization)
            endpoint = self.endpoints.get((scope["method"], path))
            if endpoint is None:
                await self._route(scope, receive, send, header)
                return
            request = Request(scope, receive)
            response: Sendable
            try:
                response = await endpoint(request)
            except asyncio.CancelledError as exc:
                if not stopped_by_shutdown(exc):
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()  # the grace period ended: answered as an error
                failure = shutdown_error()
                response = proxy_error_response(failure)
                if rel is not None and services is not None:
                    services.metrics.error_answer(path, failure.status, failure.code)
            except Exception as exc:
                response = await error_response(request, exc)
                if rel is not None and services is not None:  # a model call: count its error
                    if isinstance(exc, ProxyError):
                        services.metrics.error_answer(path, exc.status, exc.code)
                    else:
                        services.metrics.error_answer(path, 500, "internal_error")
            response.raw_headers.append(header)
            await response(scope, receive, send)
        finally:
            if token is not None:
                forget_resolved(token)
            if rel is not None:
                rel.leave()

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, header: tuple[bytes, bytes]
    ) -> None:
        """Through Starlette's router, adding the id to whatever response it sends."""
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.router(scope, receive, send_with_id)
        except Exception as exc:
            if started:
                raise  # the server closes the connection: nothing else can be said now
            response = await error_response(Request(scope, receive), exc)
            await response(scope, receive, send_with_id)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def _quiet_failure(scope: Scope, send: Send) -> Send:
    """A start-up that failed for a reason it can name (`app.state.startup_error`, set by the
    lifespan) is reported by `tokenwise serve` in one line: the server is not handed
    Starlette's traceback to log."""

    async def sending(message: Message) -> None:
        if message["type"] == "lifespan.startup.failed":
            app = scope.get("app")
            if getattr(getattr(app, "state", None), "startup_error", None):
                message = {**message, "message": ""}
        await send(message)

    return sending
