"""POST /v1/responses: the Responses API, routed, budgeted and metered like chat.

The request is read into its chat-completions view (router.responses.request) first: that view
is what the router classifies, what the budget reserves for and what the provider adapter plans
the effort from (`reasoning.effort` is the client's intent, rounded per model as on chat). Then:

* the model serves Responses natively (`apis` lists `responses`): the client's body goes
  upstream unchanged but for the model id, the effort actually sent and a budget's output cap
  (`max_output_tokens`); unknown fields, reasoning items and `encrypted_content` pass untouched,
  and the answer comes back byte for byte (streams event by event);
* the model speaks only chat: the strict translation goes through the adapter as a chat request,
  and the answer is translated back (a `response` object, or Responses stream events); what
  cannot be translated is a 400 naming the item.

`previous_response_id` goes back to the model that made that response (router.responses.memory);
on a chat-only model the proxy continues the conversation itself when `responses.conversations`
is on, and refuses clearly otherwise. The ledger endpoint is `responses`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.body import incoming, require_present, stream_flag
from router.api.chat import (
    check_allowed,
    close_served,
    count_params,
    end_user,
    open_exchange,
    reasoning_intent,
    redact,
    routed_effort,
    secret_of,
)
from router.api.fields import RESPONSES_FIELDS, check_fields
from router.api.response_keeper import Keeper, translated_view, unknown_previous
from router.api.responses_stream import NativeEvents, TranslatedEvents, estimated_usage
from router.api.stored_responses import recall_pin
from router.api.streaming import EventStreamResponse, StreamEnd, relay_events
from router.budget.admission import NO_PRESSURE
from router.errors import InvalidReasoning, InvalidRequest, ProxyError
from router.exchange import Exchange
from router.providers.base import Adapter, UpstreamCall, as_answered
from router.providers.registry import adapter_for
from router.reasoning.intent import normalize_reasoning
from router.reliability.forward import Prepared, forward
from router.responses.events import ResponseEvents
from router.responses.memory import Pin
from router.responses.meter import add_response
from router.responses.native import native_body
from router.responses.reply import to_response
from router.responses.request import ChatView, to_chat
from router.services import Route, Services
from router.upstream.client import UpstreamResponse

ENDPOINT = "responses"


async def create_response(request: Request) -> Response | EventStreamResponse:
    started, services, principal, body, model = await incoming(request)
    stream = stream_flag(body)
    if require_present(body, "input") == []:
        raise InvalidRequest(
            "Invalid 'input': the array is empty; send a string or at least one item.",
            param="input",
            code="invalid_value",
        )
    check_fields(body, RESPONSES_FIELDS)
    loose = to_chat(body, lenient=True)  # for routing and budgets; never refuses
    try:
        asked = normalize_reasoning(loose.body)
    except InvalidReasoning as exc:  # the chat view's name for what the client sent
        if exc.param == "reasoning_effort" and "reasoning_effort" not in body:
            exc.param = "reasoning.effort"
            exc.message = exc.message.replace("reasoning_effort", "reasoning.effort", 1)
        raise
    pin = await _previous(services, body, principal.team)
    budget = services.budget
    pressure = await budget.pressure(principal) if budget is not None else NO_PRESSURE
    request.state.policy_override = pressure.policy_override
    allowed = principal.models if not principal.allows(model) else None
    route = _route(
        services,
        model,
        pin,
        loose.body,
        request,
        principal.team,
        pressure,
        allowed,
        asked.enabled is True,
        principal.policy,
    )
    target = route.target
    check_allowed(principal, route)
    native = "responses" in target.model.apis
    view = loose if native else translated_view(body, pin, target.name)
    request_id = request.scope.get("tokenwise.request_id", "")
    user = end_user(body)
    chat = view.body
    admission = None
    if budget is not None:
        admission = await budget.admit(
            principal,
            target.model,
            request_id,
            chat,
            chat["messages"],
            pressure=pressure,
            requested=model,
            user=user,
            default_effort=routed_effort(route, chat),
            known_tokens=_held_upstream(pin, native),
            limit_name="max_output_tokens",
        )
        chat = admission.body
    exchange, headers = open_exchange(
        services,
        principal,
        route,
        request_id,
        ENDPOINT,
        chat["messages"],
        started,
        user,
        pressure,
        admission,
    )
    exchange.body = chat
    adapter = adapter_for(target.model.provider.dialect)
    try:
        intent = reasoning_intent(chat, route, asked if chat is loose.body else None)
        strict = target.model.provider.strict and not native
        call = adapter.build(chat, target.model, intent, strict)
    except ProxyError:
        await exchange.close("client_error", upstream_answered=False)
        raise
    path, upstream_body = _upstream(exchange, headers, body, chat, call, native)
    count_params(services.metrics, call.report)
    if call.report.effort is not None:
        exchange.effort = call.report.effort.sent
    effort = route.decision.effort if route.decision is not None else None
    keep = Keeper(services, principal.team, target.name, body, view, pin, native, effort)
    shown = body if native else _as_sent(body, chat)
    try:
        sent = UpstreamCall(path, upstream_body, call.headers, call.report)
        served = await forward(  # retries and the breaker; a response stays on its model
            services,
            exchange,
            Prepared(target, adapter, intent, sent, headers),
            None,
            stream=stream,
            receive=request.receive,
        )
        resp = served.resp
        if stream:
            if native:
                hooks: NativeEvents | TranslatedEvents = NativeEvents(exchange)
            else:
                answering = as_answered(target.model, exchange.effort)
                translator = adapter.stream(answering, True, created=int(time.time()))
                state = ResponseEvents(
                    shown, keep.response_id, summary=view.summary, created=int(time.time())
                )
                hooks = TranslatedEvents(exchange, translator, state)
            return await _stream(exchange, resp, headers, hooks, keep)
        assert served.answer is not None
        raw, parsed = served.answer.raw, served.answer.json
        if native:
            add_response(exchange.tally, parsed)
        else:
            parsed, raw = _translate(exchange, adapter, parsed, shown, keep.response_id, view), b""
        await close_served(exchange, headers)
        await keep(parsed)
        answer = redact(raw or orjson.dumps(parsed), target)
        return Response(answer, media_type="application/json", headers=headers)
    except BaseException as exc:
        await exchange.fail(exc, headers)
        raise


def _as_sent(body: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
    """The request a translated `response` echoes: with the output limit the upstream got when
    a budget capped or lowered it (as a native upstream's answer shows it)."""
    limit = chat.get("max_completion_tokens", chat.get("max_tokens"))
    if isinstance(limit, int) and limit != body.get("max_output_tokens"):
        return {**body, "max_output_tokens": limit}
    return body


async def _previous(services: Services, body: dict[str, Any], team: str) -> Pin | None:
    """What the proxy remembers of `previous_response_id`; a 400 when it is not the caller's."""
    previous = body.get("previous_response_id")
    if previous is None:
        return None
    if not isinstance(previous, str):
        raise InvalidRequest(
            "'previous_response_id' must be a string.", param="previous_response_id"
        )
    pin = await recall_pin(services.store, previous)
    if pin is None or pin.team != team:
        raise unknown_previous(previous, services.settings.config.responses.conversations)
    return pin


def _held_upstream(pin: Pin | None, native: bool) -> int:
    """Tokens of the conversation a native upstream holds for `previous_response_id` (the
    proxy's own conversations are in the chat view already)."""
    return pin.tokens if native and pin is not None and pin.messages is None else 0


def _upstream(
    exchange: Exchange,
    headers: dict[str, str],
    body: dict[str, Any],
    chat: dict[str, Any],
    call: UpstreamCall,
    native: bool,
) -> tuple[str, dict[str, Any]]:
    """Path and body for the upstream: the client's own body to a native upstream (only the
    effort is reported), the adapter's chat request otherwise (with its parameter report)."""
    if not native:
        headers.update(call.report.headers())
        return call.path, call.body
    exchange.usage_convention = "openai_responses"
    effort = call.report.effort_header()
    if effort is not None:
        headers["x-tokenwise-effort"] = effort
    return "/responses", native_body(body, chat, call.report, exchange.route.target.model)


def _translate(
    exchange: Exchange,
    adapter: Adapter,
    parsed: dict[str, Any],
    body: dict[str, Any],
    response_id: str,
    view: ChatView,
) -> dict[str, Any]:
    """A chat answer as the `response` object, tallied (reasoning included) on the way."""
    model = as_answered(exchange.route.target.model, exchange.effort)
    reply = adapter.parse_response(parsed, model, True, created=int(time.time()))
    exchange.tally.add_response(reply)
    answer = to_response(reply, body, response_id, summary=view.summary, created=int(time.time()))
    if answer["usage"] is None:
        answer["usage"] = estimated_usage(exchange)
    return answer


def _route(
    services: Services,
    model: str,
    pin: Pin | None,
    chat: dict[str, Any],
    request: Request,
    team: str,
    pressure: Any,
    allowed: tuple[str, ...] | None = None,
    reasoning: bool = False,
    team_policy: str | None = None,
) -> Route:
    """A continued conversation stays on the model that made its previous response (at the
    effort a decision gave it, when a virtual model is asked for again)."""
    if pin is not None and pin.target in services.targets:
        return services.continued(model, chat, pin.target, pin.effort)
    return services.route(
        model,
        chat,
        request.headers,
        team,
        policy_override=pressure.policy_override,
        max_effort=pressure.effort_cap,
        allowed=allowed,
        reasoning=reasoning,
        team_policy=team_policy,
    )


async def _stream(
    exchange: Exchange,
    resp: UpstreamResponse,
    headers: dict[str, str],
    hooks: NativeEvents | TranslatedEvents,
    keep: Keeper,
) -> EventStreamResponse:
    end = StreamEnd()  # `forward` checked how the stream began
    relay = cast(
        AsyncGenerator[bytes, None],
        relay_events(
            resp,
            end,
            time.perf_counter,
            hooks,
            end_with_done=False,
            redact=secret_of(exchange.route.target),
        ),
    )

    async def body() -> AsyncIterator[bytes]:
        try:
            async for data in relay:
                if hooks.response is not None:
                    await keep(hooks.response)  # before the client can ask for it
                yield data
        finally:
            await relay.aclose()  # closes the upstream response at once

    async def finished() -> None:
        if hooks.failed and end.outcome == "ok":
            end.outcome = "upstream_error"
        exchange.first_chunk_at = end.first_chunk_at
        exchange.stream_ended(end.outcome, end.error)
        await exchange.close(end.outcome)

    return EventStreamResponse(
        body(), headers=headers, on_close=finished, farewell=hooks.on_failure
    )
