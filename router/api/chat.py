"""POST /v1/chat/completions: authenticate, route, reserve budget, forward, relay, meter.

The client's reasoning controls are read into one intent (a malformed one is a 400 before
routing) and the target's provider adapter (router/providers/) builds the upstream request:
model id, effort in the upstream's own terms, parameters mapped, dropped (reported in
`x-tokenwise-params`) or refused, `stream_options.include_usage` on streams (stripped again if
the client did not want it). A JSON answer the adapter leaves unchanged comes back byte for
byte; otherwise its translation (reasoning moved to `reasoning_content`/`reasoning`, leaked
markup repaired). A stream is relayed event by event, translated before metering sees it and
with reasoning hidden only after (the tally always counts it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.body import incoming, require_messages, stream_flag
from router.api.fields import (
    CHAT_FIELDS,
    check_fields,
    check_message_fields,
    check_streaming_only,
    check_tool_choice,
)
from router.api.stream_meter import MeteredEvents
from router.api.streaming import DONE_EVENT, EventStreamResponse, StreamEnd, relay_events
from router.auth import Principal
from router.budget.admission import NO_PRESSURE, Admission, Pressure
from router.errors import REDACTED, PermissionDenied, ProxyError
from router.exchange import ZERO, Exchange
from router.metering.bill import unanswered_header
from router.metering.client_usage import openai_usage_fields
from router.observability.metrics import Metrics
from router.providers.base import Adapter, ParamReport, as_answered
from router.providers.openai_reply import hide_reasoning
from router.providers.registry import adapter_for
from router.reasoning.effort import Effort, is_effort
from router.reasoning.intent import CLIENT_CONTROLS, ReasoningIntent, normalize_reasoning
from router.reliability.forward import Prepared, forward
from router.services import Route, Services, Target
from router.upstream.answer import Answer
from router.upstream.client import UpstreamResponse

ENDPOINT = "chat"
MAX_USER = 256


def route_headers(route: Route) -> dict[str, str]:
    target = route.target
    headers = {"x-tokenwise-model": target.name, "x-tokenwise-provider": target.provider}
    if route.decision is not None:
        headers["x-tokenwise-route"] = route.decision.header()
    return headers


def routed_effort(route: Route, body: dict[str, Any]) -> str | None:
    """The effort a routing decision chose, unless the client said how to reason itself."""
    decision = route.decision
    if decision is None or decision.effort == "none":
        return None
    if any(k in body for k in CLIENT_CONTROLS):
        return None
    return decision.effort


def note_client_effort(
    headers: dict[str, str],
    route: Route,
    received: Mapping[str, Any],
    report: ParamReport,
    admission: Admission | None,
) -> None:
    """When the client set its own reasoning (`received`: its body, before a budget changed
    it), `x-tokenwise-route` shows the effort sent, not the one the policy would have chosen,
    and says who set it: the client, or a soft budget that capped the client's."""
    decision = route.decision
    if decision is None or report.effort is None:
        return
    if not any(k in received for k in CLIENT_CONTROLS) or report.effort.sent == decision.effort:
        return
    capped = admission is not None and admission.effort is not None
    who = "effort capped by a soft budget" if capped else "effort set by the client"
    told = replace(decision, effort=report.effort.sent, reason=f"{decision.reason}, {who}")
    headers["x-tokenwise-route"] = told.header()


def report_client_ask(
    report: ParamReport, asked: ReasoningIntent, admission: Admission | None
) -> None:
    """A soft budget capped the client's effort in the body the adapter saw: the report (so
    `x-tokenwise-effort` and the effort metric) says what the client asked for, and what was
    sent (`x-tokenwise-budget` says why)."""
    if admission is None or admission.effort is None or asked.effort is None:
        return
    report.requested = asked.effort
    if report.effort is not None:
        report.effort = replace(report.effort, requested=asked.effort)


def reasoning_intent(
    body: dict[str, Any], route: Route, known: ReasoningIntent | None = None
) -> ReasoningIntent:
    """The client's reasoning intent (``known``: already read from this very body); the routing
    decision's effort when the client gave none."""
    intent = known if known is not None else normalize_reasoning(body)
    effort = routed_effort(route, body)
    silent = intent.effort is None and intent.budget_tokens is None and intent.enabled is None
    reasons = route.target.model.reasoning is not None
    if effort is None or not silent or not reasons or not is_effort(effort):
        return intent
    routed = cast(Effort, effort)
    return replace(intent, effort=routed, enabled=True, sources=("reasoning_effort",))


def count_params(metrics: Metrics, report: ParamReport) -> None:
    if report.requested is not None:
        sent = report.effort.sent if report.effort is not None else None
        metrics.effort(report.provider, report.requested, sent)
    for param in report.dropped:
        metrics.dropped(report.provider, param)


def check_allowed(principal: Principal, route: Route) -> None:
    """A key with an allow-list may use the models it lists (a listed virtual model: any model
    its policy routes to)."""
    if principal.allows(route.requested) or principal.allows(route.target.name):
        return
    raise PermissionDenied(
        f"This API key may not use '{route.target.name}' (its models: "
        f"{', '.join(principal.models)}).",
        param="model",
        code="model_not_allowed",
    )


def open_exchange(
    services: Services,
    principal: Principal,
    route: Route,
    request_id: str,
    endpoint: str,
    messages: Sequence[Mapping[str, Any]],
    started: float,
    user: str | None,
    pressure: Pressure,
    admission: Admission | None,
) -> tuple[Exchange, dict[str, str]]:
    """The exchange of an admitted request (`admission` None: no budget applies), holding its
    reservation, and the response headers so far (the route's, the budget's)."""
    exchange = Exchange(services, principal, route, request_id, endpoint, messages, started)
    exchange.user = user
    exchange.policy_override = pressure.policy_override
    headers = route_headers(route)
    if admission is not None:
        exchange.hold = admission.hold
        exchange.effort = admission.effort or exchange.effort
        headers.update(admission.headers)
    return exchange, headers


async def close_served(exchange: Exchange, headers: dict[str, str]) -> None:
    """Close an answered request; its bill's headers join the response's."""
    bill = await exchange.close("ok")
    if bill is not None:
        headers.update(bill.headers())
        if exchange.unanswered:
            headers.update(unanswered_header(bill.usage))


def end_user(body: dict[str, Any]) -> str | None:
    """The `user` field: who the request is for, kept in the ledger (never a metric label)."""
    user = body.get("user")
    return user[:MAX_USER] if isinstance(user, str) and user else None


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


async def chat_completions(request: Request) -> Response | EventStreamResponse:
    started, services, principal, body, model = await incoming(request)
    messages = require_messages(body)
    stream = stream_flag(body)
    check_fields(body, CHAT_FIELDS)
    check_streaming_only(body, stream)
    check_tool_choice(body)
    check_message_fields(messages)
    asked = normalize_reasoning(body)  # a malformed reasoning control is a 400 before routing
    received = body
    budget = services.budget
    pressure = await budget.pressure(principal) if budget is not None else NO_PRESSURE
    request.state.policy_override = pressure.policy_override  # a soft budget's cheaper policy
    route = services.route(
        model,
        body,
        request.headers,
        principal.team,
        policy_override=pressure.policy_override,
        max_effort=pressure.effort_cap,
        allowed=principal.models if not principal.allows(model) else None,
        reasoning=asked.enabled is True,
        team_policy=principal.policy,
    )
    target = route.target
    check_allowed(principal, route)
    request_id = request.scope.get("tokenwise.request_id", "")
    user = end_user(body)
    admission = None
    if budget is not None:  # after routing, before the upstream call: reserve or refuse
        admission = await budget.admit(
            principal,
            target.model,
            request_id,
            body,
            messages,
            pressure=pressure,
            requested=model,
            user=user,
            default_effort=routed_effort(route, body),
        )
        body = admission.body
    exchange, headers = open_exchange(
        services,
        principal,
        route,
        request_id,
        ENDPOINT,
        messages,
        started,
        user,
        pressure,
        admission,
    )
    exchange.body = body
    adapter = adapter_for(target.model.provider.dialect)
    try:
        intent = reasoning_intent(body, route, asked if body is received else None)
        call = adapter.build(body, target.model, intent, target.model.provider.strict)
    except ProxyError:
        await exchange.close("client_error", upstream_answered=False)
        raise
    report_client_ask(call.report, asked, admission)
    headers.update(call.report.headers())
    note_client_effort(headers, route, received, call.report, admission)
    count_params(services.metrics, call.report)
    if call.report.effort is not None:
        exchange.effort = call.report.effort.sent

    async def switch(to: Target) -> Prepared:  # a fallback: move the budget, build anew
        return await _prepare(services, principal, exchange, received, asked, pressure)

    try:
        first = Prepared(target, adapter, intent, call, headers)
        served = await forward(
            services, exchange, first, switch, stream=stream, receive=request.receive
        )
        resp, target, adapter = served.resp, served.prepared.target, served.prepared.adapter
        intent, headers = served.prepared.intent, served.prepared.headers
        if stream:
            answering = as_answered(target.model, exchange.effort)
            translator = adapter.stream(answering, True, created=int(time.time()))
            hooks = MeteredEvents(
                exchange, wants_usage(body), translator=translator, show_reasoning=intent.show
            )
            return await relay_stream(exchange, resp, headers, hooks)
        assert served.answer is not None
        raw = redact(_reply(exchange, adapter, served.answer, intent.show), target)
        await close_served(exchange, headers)
        return Response(raw, media_type="application/json", headers=headers)
    except BaseException as exc:
        await exchange.fail(exc, headers)
        raise


async def _prepare(
    services: Services,
    principal: Principal,
    exchange: Exchange,
    received: dict[str, Any],
    asked: ReasoningIntent,
    pressure: Pressure,
) -> Prepared:
    """The request made ready for `exchange.route`'s target, a fallback: the old reservation
    is released (nothing was served) and one made for this model, from the client's body."""
    route = exchange.route
    check_allowed(principal, route)  # a fallback outside the key's allow-list is skipped
    target = route.target
    old = exchange.hold
    if old is not None:
        exchange.hold = None
        old.closing(ZERO)
        await old.settle(ZERO)
    headers = route_headers(route)
    body = received
    admission = None
    if services.budget is not None:
        admission = await services.budget.admit(
            principal,
            target.model,
            exchange.request_id,
            received,
            exchange.messages,
            pressure=pressure,
            requested=route.requested,
            user=exchange.user,
            default_effort=routed_effort(route, received),
            rate=False,
        )
        body = admission.body
        exchange.hold = admission.hold
        headers.update(admission.headers)
    adapter = adapter_for(target.model.provider.dialect)
    intent = reasoning_intent(body, route, asked if body is received else None)
    call = adapter.build(body, target.model, intent, target.model.provider.strict)
    report_client_ask(call.report, asked, admission)
    headers.update(call.report.headers())
    note_client_effort(headers, route, received, call.report, admission)
    count_params(services.metrics, call.report)
    if call.report.effort is not None:
        exchange.effort = call.report.effort.sent
    return Prepared(target, adapter, intent, call, headers)


def _reply(exchange: Exchange, adapter: Adapter, parsed: Answer, show: bool) -> bytes:
    """The answer's bytes: the upstream's own when the adapter changed nothing; the tally
    counts the translated answer, reasoning included, before any hiding."""
    model = as_answered(exchange.route.target.model, exchange.effort)
    reply = adapter.parse_response(parsed.json, model, True, created=int(time.time()))
    exchange.tally.add_response(reply)
    usage = reply.get("usage")
    if isinstance(usage, dict):
        fields = openai_usage_fields(usage, exchange.bill().usage)
        if fields is not None:
            reply = {**reply, "usage": fields}
    if not show:
        reply = hide_reasoning(reply)
    return parsed.raw if reply is parsed.json else orjson.dumps(reply)


async def relay_stream(
    exchange: Exchange, resp: UpstreamResponse, headers: dict[str, str], hooks: MeteredEvents
) -> EventStreamResponse:
    """The client's event stream, relayed from a checked upstream stream; closed (metered,
    settled, recorded) when it ends however it ends."""
    end = StreamEnd()

    async def finished() -> None:
        exchange.first_chunk_at = end.first_chunk_at
        exchange.stream_ended(end.outcome, end.error)
        await exchange.close(end.outcome)

    secret = secret_of(exchange.route.target)
    return EventStreamResponse(
        relay_events(resp, end, time.perf_counter, hooks, redact=secret),
        headers=headers,
        on_close=finished,
        farewell=lambda exc: hooks.on_failure(exc) + DONE_EVENT,
    )


MIN_SECRET_CHARS = 16  # provider keys are longer; shorter ones are placeholders


def redact(raw: bytes, target: Target) -> bytes:
    """The answer without the provider's key, should the upstream have echoed it."""
    secret = secret_of(target)
    if secret is not None and secret in raw:
        return raw.replace(secret, REDACTED.encode())
    return raw


def secret_of(target: Target) -> bytes | None:
    """The provider's key as a relayed stream would carry it (`relay_events(redact=...)`); None
    for a key too short to be a secret (a placeholder such as `ollama` or `x`, which would
    match words of answers and JSON field names)."""
    key = target.model.provider.api_key
    return key.encode() if key and len(key) >= MIN_SECRET_CHARS else None


def redact_object(value: dict[str, Any], target: Target) -> dict[str, Any]:
    """A parsed answer without the provider's key (before the proxy keeps it in the store)."""
    raw = orjson.dumps(value)
    clean = redact(raw, target)
    return value if clean is raw else cast(dict[str, Any], orjson.loads(clean))
