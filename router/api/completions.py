"""POST /v1/completions: legacy text completions, passed through where the upstream has them.

A model whose `apis` list `completions` gets the client's body with only the model id changed
(and, on streams, `stream_options.include_usage` so the answer can be metered, stripped again
from the client's stream if it did not ask). It is routed, budgeted (each prompt as a user
message, a prompt of token ids by its length; the estimate covers every answer billed: `n`,
or `best_of` when larger, for each prompt of an array; `max_tokens` is the output limit a
budget may lower) and metered like chat, with the same headers and the same in-band cost
comment on streams; the ledger endpoint is `completions`. Any other model is a 400 that says
it has no legacy completions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from router.api.body import incoming, require_present, stream_flag
from router.api.chat import (
    check_allowed,
    close_served,
    end_user,
    open_exchange,
    redact,
    relay_stream,
    wants_usage,
)
from router.api.fields import COMPLETIONS_FIELDS, check_fields, check_streaming_only, token_ids
from router.api.stream_meter import MeteredEvents
from router.api.streaming import EventStreamResponse
from router.auth import Principal
from router.budget.admission import NO_PRESSURE
from router.budget.estimate import choices
from router.errors import InvalidRequest
from router.providers.base import ParamReport, UpstreamCall, with_usage
from router.providers.registry import adapter_for
from router.reasoning.intent import ReasoningIntent
from router.reliability.forward import Prepared, forward
from router.services import Route, Services

ENDPOINT = "completions"
API_DEFAULT_MAX_TOKENS = 16  # what OpenAI (and vLLM) generate when `max_tokens` is not sent


def prompt_messages(prompt: Any) -> list[dict[str, Any]]:
    """The prompt as pseudo-messages, for routing, budgets and counting."""
    texts = [prompt] if isinstance(prompt, str) else prompt if isinstance(prompt, list) else []
    return [{"role": "user", "content": t} for t in texts if isinstance(t, str)]


def prompt_shape(body: Mapping[str, Any]) -> tuple[int, int]:
    """How many answers the upstream generates and bills (`n`, or `best_of` when larger, for
    each prompt of an array), and how many prompt tokens are given as token ids."""
    prompt = body.get("prompt")
    per_prompt = max(choices(body), _count(body.get("best_of")))
    if isinstance(prompt, list) and prompt and all(isinstance(p, int) for p in prompt):
        return per_prompt, len(prompt)  # one prompt of token ids
    if not isinstance(prompt, list):
        return per_prompt, 0
    return per_prompt * max(1, len(prompt)), token_ids(prompt)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 1 else 1


def check_best_of(body: Mapping[str, Any], stream: bool) -> None:
    """`best_of` generates that many answers and returns the best `n`: at least `n`, and never
    on a stream (the server must see them all before it picks)."""
    best_of = body.get("best_of")
    if best_of is None:
        return
    n = body.get("n") or 1
    if best_of < n:
        raise InvalidRequest(
            f"'best_of' ({best_of}) must be at least 'n' ({n}).",
            param="best_of",
            code="invalid_value",
        )
    if stream and best_of > 1:
        raise InvalidRequest(
            "'best_of' above 1 cannot be streamed: the best answers are known only at the end.",
            param="best_of",
            code="invalid_value",
        )


def completion_models(services: Services, principal: Principal, model: str) -> list[str]:
    """The models a virtual model may route this request to: those whose `apis` list
    `completions`, within the key's allow-list when it has one."""
    listed = None if principal.allows(model) else principal.models
    return [name for name in completion_models_of(services) if listed is None or name in listed]


def no_completions(services: Services, route: Route) -> InvalidRequest:
    target = route.target
    advice = (
        "Use /v1/chat/completions, or a model whose `apis` list `completions` ("
        + (", ".join(completion_models_of(services)) or "none configured")
        + ")."
    )
    if route.decision is None:
        return InvalidRequest(
            f"The model '{target.name}' has no legacy completions: its upstream serves chat "
            f"completions only. {advice}",
            param="model",
            code="unsupported_api",
        )
    decision = route.decision
    return InvalidRequest(
        f"'{route.requested}' routed this prompt to the {decision.tier} tier of policy "
        f"'{decision.policy}', and none of that tier's candidates serves legacy completions "
        f"(it chose '{target.name}'). {advice}",
        param="model",
        code="unsupported_api",
    )


def completion_models_of(services: Services) -> list[str]:
    return [name for name, m in services.settings.models.items() if "completions" in m.apis]


async def completions(request: Request) -> Response | EventStreamResponse:
    started, services, principal, body, model = await incoming(request)
    stream = stream_flag(body)
    require_present(body, "prompt")
    check_fields(body, COMPLETIONS_FIELDS)
    check_streaming_only(body, stream)
    check_best_of(body, stream)
    messages = prompt_messages(body["prompt"])
    answers, token_ids = prompt_shape(body)
    budget = services.budget
    pressure = await budget.pressure(principal) if budget is not None else NO_PRESSURE
    view = {**body, "messages": messages}
    route = services.route(
        model,
        view,
        request.headers,
        principal.team,
        allowed=completion_models(services, principal, model),
        team_policy=principal.policy,
    )
    target = route.target
    check_allowed(principal, route)
    if "completions" not in target.model.apis:
        raise no_completions(services, route)
    request_id = request.scope.get("tokenwise.request_id", "")
    upstream_body: dict[str, Any] = dict(body)
    admission = None
    if budget is not None:
        admission = await budget.admit(
            principal,
            target.model,
            request_id,
            upstream_body,
            messages,
            pressure=pressure,
            requested=model,
            user=end_user(body),
            known_tokens=token_ids,
            answers=answers,
            allowance=None if body.get("max_tokens") is not None else API_DEFAULT_MAX_TOKENS,
        )
        upstream_body = dict(admission.body)
    upstream_body["model"] = target.model.upstream_id
    if stream:
        upstream_body["stream_options"] = with_usage(body.get("stream_options"))
    exchange, headers = open_exchange(
        services,
        principal,
        route,
        request_id,
        ENDPOINT,
        messages,
        started,
        end_user(body),
        NO_PRESSURE,
        admission,
    )
    exchange.known_tokens = token_ids
    try:
        call = UpstreamCall(
            "/completions", upstream_body, target.headers, ParamReport(target.provider)
        )
        served = await forward(  # retries and the breaker; no fallback to another model
            services,
            exchange,
            Prepared(
                target,
                adapter_for(target.model.provider.dialect),
                ReasoningIntent(),
                call,
                headers,
            ),
            None,
            stream=stream,
            receive=request.receive,
        )
        if stream:
            return await relay_stream(
                exchange, served.resp, headers, MeteredEvents(exchange, wants_usage(body))
            )
        assert served.answer is not None
        data, parsed = served.answer.raw, served.answer.json
        exchange.tally.add_response(parsed)
        await close_served(exchange, headers)
        return Response(redact(data, target), media_type="application/json", headers=headers)
    except BaseException as exc:
        await exchange.fail(exc, headers)
        raise
