"""POST /v1/chat/completions: authenticate, route, forward, relay, meter.

The request reaches the upstream unchanged except for the model id, `stream_options.include_usage`
on streams (usage is always asked for, and stripped again if the client did not want it) and,
later, what a routing decision changes; unknown fields are forwarded. A JSON answer comes back
byte for byte with its cost in headers; a stream is relayed event by event as it arrives.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.body import read_json_object, require_messages, require_model, stream_flag
from router.api.stream_meter import MeteredEvents
from router.api.streaming import EventStreamResponse, StreamEnd, relay_events
from router.errors import ProxyError, UpstreamProtocolError
from router.exchange import Exchange
from router.services import Route, services_of
from router.upstream.client import UpstreamResponse
from router.upstream.failure import check_json_body, status_error

ENDPOINT = "chat"


def route_headers(route: Route) -> dict[str, str]:
    target = route.target
    headers = {"x-tokenwise-model": target.name, "x-tokenwise-provider": target.provider}
    if route.virtual:
        headers["x-tokenwise-route"] = f"model={target.name}; reason={route.reason}"
    return headers


def upstream_body(body: dict[str, Any], route: Route, stream: bool) -> bytes:
    out = dict(body)
    out["model"] = route.target.model.upstream_id
    if stream:
        options = body.get("stream_options")
        out["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
    return orjson.dumps(out)


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


async def chat_completions(request: Request) -> Response | EventStreamResponse:
    started = time.perf_counter()
    services = services_of(request)
    principal = services.auth.authenticate(request.headers.get("authorization"))
    body = await read_json_object(request, services.body_limit)
    model = require_model(body)
    messages = require_messages(body)
    stream = stream_flag(body)
    route = services.route(model)
    target = route.target
    exchange = Exchange(
        services,
        principal,
        route,
        request.scope.get("tokenwise.request_id", ""),
        ENDPOINT,
        messages,
        started,
    )
    headers = route_headers(route)
    try:
        resp = await services.upstream.send(
            "POST",
            target.url("/chat/completions"),
            upstream_body(body, route, stream),
            target.headers,
        )
        if stream:
            return await _stream(exchange, resp, headers, wants_usage(body))
        parsed = await _answer(resp, target.provider)
        exchange.tally.add_response(parsed.json)
        bill = await exchange.close("ok")
        if bill is not None:
            headers.update(bill.headers())
        return Response(parsed.raw, media_type="application/json", headers=headers)
    except ProxyError as exc:
        outcome = "timeout" if exc.status == 504 else "upstream_error"
        services.metrics.upstream_error(target.provider, outcome)
        await exchange.close(outcome, upstream_answered=False)
        exc.headers.update(headers)
        raise
    except BaseException:
        await exchange.close("cancelled", upstream_answered=False)
        raise


class Answer:
    __slots__ = ("json", "raw")

    def __init__(self, raw: bytes, json: dict[str, Any]) -> None:
        self.raw = raw
        self.json = json


async def _answer(resp: UpstreamResponse, provider: str) -> Answer:
    async with resp:
        data = await resp.read()
    if resp.status >= 400:
        raise status_error(resp.status, data, resp.headers, provider)
    parsed = check_json_body(data, provider)
    if isinstance(parsed, ProxyError):
        raise parsed
    return Answer(data, parsed)


async def _stream(
    exchange: Exchange, resp: UpstreamResponse, headers: dict[str, str], client_usage: bool
) -> EventStreamResponse:
    provider = exchange.route.target.provider
    if resp.status >= 400 or "event-stream" not in resp.content_type:
        # Nothing has reached the client yet: answer with a proper status instead of a stream.
        await _answer(resp, provider)
        raise UpstreamProtocolError(
            f"The upstream provider '{provider}' answered a streaming request with a "
            "JSON body instead of an event stream."
        )
    end = StreamEnd()
    hooks = MeteredEvents(exchange, client_usage)

    async def finished() -> None:
        exchange.first_chunk_at = end.first_chunk_at
        if end.outcome not in ("ok", "cancelled"):
            exchange.services.metrics.upstream_error(provider, end.outcome)
        await exchange.close(end.outcome)

    return EventStreamResponse(
        relay_events(resp, end, time.perf_counter, hooks), headers=headers, on_close=finished
    )
