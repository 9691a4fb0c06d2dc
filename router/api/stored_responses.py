"""GET and DELETE /v1/responses/{id} (and GET .../input_items): to the upstream that made it.

The proxy knows which catalog model made each response id for `responses.ttl_seconds`
(router.responses.memory) and for which team: another team's id, an expired or an unknown one is
a 404. On a Responses upstream the call passes through, query string included (answer, status
and content type as the upstream gives them, over the provider's own TLS trust and without the
provider's key should the upstream echo it); for a conversation the proxy kept itself
(chat-only upstream, `responses.conversations`) the proxy answers from the store, input items
included (router.responses.items).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.api.chat import redact, route_headers
from router.errors import NotFound, Overloaded, ProxyError
from router.responses.items import page as items_page
from router.responses.memory import Pin, forget, recall
from router.services import Route, services_of
from router.store.base import Store
from router.upstream.failure import status_error


async def recall_pin(store: Store, response_id: str) -> Pin | None:
    """Where `response_id` lives (None: unknown here); 503 when the store does not answer."""
    try:
        return await recall(store, response_id)
    except Exception as exc:
        raise Overloaded(
            "The store that keeps response ids is not answering; retry shortly."
        ) from exc


async def stored_response(request: Request) -> Response:
    services = services_of(request)
    principal = services.auth.authenticate(request.headers.get("authorization"))
    response_id = request.path_params["response_id"]
    pin = await recall_pin(services.store, response_id)
    target = services.targets.get(pin.target) if pin is not None else None
    if pin is None or target is None or pin.team != principal.team:
        raise NotFound(
            f"No response with id '{response_id}' is known here: it was not made through this "
            "proxy with a stored answer (on a chat-only upstream, responses.conversations keeps "
            "them), it belongs to another team, it was deleted, or it is older than "
            "responses.ttl_seconds.",
            param="response_id",
            code="response_not_found",
        )
    headers = route_headers(Route(target, target.name, "response_id"))
    suffix = "/input_items" if request.url.path.endswith("/input_items") else ""
    if "responses" in target.model.apis:
        query = f"?{request.url.query}" if request.url.query else ""
        path = f"/responses/{response_id}{suffix}{query}"
        try:
            resp = await services.upstream.send(
                request.method, target.url(path), None, target.headers, tls=target.tls
            )
            async with resp:
                data = await resp.read()
            if resp.status >= 400:
                raise status_error(resp.status, data, resp.headers, target.provider)
        except ProxyError as exc:
            exc.headers.update(headers)
            exc.redact(target.model.provider.api_key)
            raise
        if request.method == "DELETE":
            await forget(services.store, response_id)
        kind = resp.content_type or "application/json"
        return Response(redact(data, target), media_type=kind, headers=headers)
    if suffix:
        if pin.items is None:  # kept before input items were, or never kept
            raise NotFound(
                f"The input items of '{response_id}' were not kept: '{target.name}' speaks only "
                "chat completions, and the proxy keeps the input of a conversation it holds only "
                "when responses.conversations is on.",
                param="response_id",
                code="response_not_found",
            )
        listed = items_page(pin.items, request.query_params)
        return Response(orjson.dumps(listed), media_type="application/json", headers=headers)
    if request.method == "DELETE":
        await forget(services.store, response_id)
        body = {"id": response_id, "object": "response.deleted", "deleted": True}
        return Response(orjson.dumps(body), media_type="application/json", headers=headers)
    return Response(orjson.dumps(pin.response), media_type="application/json", headers=headers)
