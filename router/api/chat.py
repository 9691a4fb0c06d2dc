"""POST /v1/chat/completions: authenticate, route, forward, relay.

The request reaches the upstream unchanged except for the model id (and, later, what a routing
decision changes); unknown fields are forwarded. A JSON answer comes back byte for byte; a stream
is relayed event by event as it arrives.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.body import read_json_object, require_messages, require_model, stream_flag
from router.api.streaming import EventStreamResponse, StreamEnd, relay_events
from router.errors import ProxyError, UpstreamProtocolError
from router.services import Route, Services, services_of
from router.upstream.client import UpstreamResponse
from router.upstream.failure import check_json_body, status_error

ENDPOINT = "chat"


def route_headers(route: Route) -> dict[str, str]:
    target = route.target
    headers = {"x-tokenwise-model": target.name, "x-tokenwise-provider": target.provider}
    if route.virtual:
        headers["x-tokenwise-route"] = f"model={target.name}; reason={route.reason}"
    return headers


async def chat_completions(request: Request) -> Response | EventStreamResponse:
    started = time.perf_counter()
    services = services_of(request)
    services.auth.authenticate(request.headers.get("authorization"))
    body = await read_json_object(request, services.body_limit)
    model = require_model(body)
    require_messages(body)
    route = services.route(model)
    stream = stream_flag(body)
    target = route.target
    upstream_body: dict[str, Any] = dict(body)
    upstream_body["model"] = target.model.upstream_id
    headers = route_headers(route)
    outcome = "upstream_error"
    try:
        resp = await services.upstream.send(
            "POST", target.url("/chat/completions"), orjson.dumps(upstream_body), target.headers
        )
        if stream:
            outcome = "streaming"
            return await _stream(services, resp, route, headers, started)
        data = await _answer(resp, target.provider)
        outcome = "ok"
        return Response(data, media_type="application/json", headers=headers)
    except ProxyError as exc:
        outcome = "timeout" if exc.status == 504 else "upstream_error"
        services.metrics.upstream_error(target.provider, outcome)
        exc.headers.update(headers)
        raise
    finally:
        if outcome != "streaming":
            services.metrics.observe(
                ENDPOINT, target.name, target.provider, outcome, time.perf_counter() - started
            )


async def _answer(resp: UpstreamResponse, provider: str) -> bytes:
    async with resp:
        data = await resp.read()
    if resp.status >= 400:
        raise status_error(resp.status, data, resp.headers, provider)
    problem = check_json_body(data, provider)
    if problem is not None:
        raise problem
    return data


async def _stream(
    services: Services,
    resp: UpstreamResponse,
    route: Route,
    headers: dict[str, str],
    started: float,
) -> EventStreamResponse:
    target = route.target
    if resp.status >= 400 or "event-stream" not in resp.content_type:
        # Nothing has reached the client yet: answer with a proper status instead of a stream.
        await _answer(resp, target.provider)
        raise UpstreamProtocolError(
            f"The upstream provider '{target.provider}' answered a streaming request with a "
            "JSON body instead of an event stream."
        )
    end = StreamEnd()

    def finished() -> None:
        now = time.perf_counter()
        metrics = services.metrics
        if end.first_chunk_at is not None:
            metrics.first_token(target.name, end.first_chunk_at - started)
        if end.outcome not in ("ok", "cancelled"):
            metrics.upstream_error(target.provider, end.outcome)
        metrics.observe(ENDPOINT, target.name, target.provider, end.outcome, now - started)

    return EventStreamResponse(
        relay_events(resp, end, time.perf_counter), headers=headers, on_close=finished
    )
