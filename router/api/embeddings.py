"""POST /v1/embeddings: a pass-through to the model's provider, metered like chat."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.body import incoming
from router.api.chat import check_allowed, close_served, end_user, redact, route_headers
from router.api.fields import EMBEDDINGS_FIELDS, check_embedding_input, check_fields, token_ids
from router.errors import InvalidRequest, NotFound, ProxyError
from router.exchange import Exchange
from router.upstream.failure import check_json_body, status_error

ENDPOINT = "embeddings"


def input_as_messages(value: Any) -> list[dict[str, Any]]:
    """The embedding input as pseudo-messages, for counting when the upstream reports no usage."""
    texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [{"role": "user", "content": t} for t in texts if isinstance(t, str)]


async def embeddings(request: Request) -> Response:
    started, services, principal, body, model = await incoming(request)
    if "input" not in body:
        raise InvalidRequest(
            "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    check_embedding_input(body["input"])
    check_fields(body, EMBEDDINGS_FIELDS)
    if model in services.router.by_virtual:
        raise NotFound(
            f"'{model}' routes chat requests; name an embedding model from GET /v1/models.",
            param="model",
            code="model_not_found",
        )
    route = services.route(model)
    check_allowed(principal, route)  # a key confined to some models is confined here too
    target = route.target
    request_id = request.scope.get("tokenwise.request_id", "")
    texts = input_as_messages(body["input"])
    ids = token_ids(body["input"])  # counted by their number, in the estimate and a local count
    user = end_user(body)
    headers = route_headers(route)
    hold = None
    if services.budget is not None:  # reserve the input's cost, or refuse before the call
        admission = await services.budget.admit(
            principal,
            target.model,
            request_id,
            body,
            texts,
            requested=model,
            user=user,
            output=False,
            known_tokens=ids,
        )
        hold = admission.hold
        headers.update(admission.headers)
    exchange = Exchange(services, principal, route, request_id, ENDPOINT, texts, started)
    exchange.user = user
    exchange.hold = hold
    exchange.known_tokens = ids
    upstream_body: dict[str, Any] = dict(body)
    upstream_body["model"] = target.model.upstream_id
    try:
        resp = await services.upstream.send(
            "POST",
            target.url("/embeddings"),
            orjson.dumps(upstream_body),
            target.headers,
            tls=target.tls,
        )
        async with resp:
            data = await resp.read()
        if resp.status >= 400:
            raise status_error(resp.status, data, resp.headers, target.provider)
        parsed = check_json_body(data, target.provider)
        if isinstance(parsed, ProxyError):
            raise parsed
        exchange.tally.add_response(parsed)
        await close_served(exchange, headers)
        return Response(redact(data, target), media_type="application/json", headers=headers)
    except BaseException as exc:
        await exchange.fail(exc, headers)
        raise
