"""The simulated OpenAI-compatible upstream as a Starlette app. `create_sim_app` only assembles.

    GET  /v1/models, /v1/models/{id}   the catalog, `owned_by: tokenwise-simulator`
    POST /v1/chat/completions          JSON or SSE, per the model's dialect, with faults
    POST /v1/responses                 the Responses API, for models whose `apis` list it
    GET, DELETE /v1/responses/{id}     a stored response (router/sim/responses.py)
    GET  /v1/responses/{id}/input_items  its input items
    POST /v1/completions               legacy text completions, for models that list them
    POST /v1/embeddings                deterministic vectors
    GET  /healthz                      liveness
    GET  /sim/log, DELETE /sim/log     what the simulator saw (bounded; `?after=<id>`: newer
                                       entries only; `?limit=N`: the last N), and a reset

Every response carries `x-tokenwise-simulated: true` and `x-sim-request-id`. A proxy's own id
for the request (`x-tokenwise-request-id`) is kept in the log, so retries and fallbacks of one
client request can be told apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import InvalidRequest, NotFound, ProxyError, error_body
from router.responses.items import page as items_page
from router.sim.catalog import SimModel
from router.sim.config import SimConfig
from router.sim.delivery import SimStreamingResponse, cut_body, sleep_ms, sse_events
from router.sim.embeddings import embeddings_body
from router.sim.faults import Faults
from router.sim.generate import complete
from router.sim.render import completion_body, stream_chunks
from router.sim.request import ChatRequest, parse_chat
from router.sim.requestlog import RequestLog
from router.sim.responses import (
    ResponseStore,
    answer,
    events,
    legacy_body,
    legacy_chat_body,
    legacy_chunks,
    legacy_prompts,
    no_done,
    read_turn,
    require_api,
)

OWNER = "tokenwise-simulator"
_REQUEST_ID = "sim.request_id"
# A proxy's own id for the request, kept in the log so retries and fallbacks can be traced.
CLIENT_ID_HEADER = "x-tokenwise-request-id"
_JSON = "application/json"
_SSE = "text/event-stream"
_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout_error", None),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


class _SimHeaders:
    """Label every response as simulated and give it a request id."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.log.new_request_id()
        scope[_REQUEST_ID] = request_id

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-tokenwise-simulated", b"true"))
                headers.append((b"x-sim-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


def create_sim_app(config: SimConfig) -> Starlette:
    models = {model.name: model for model in config.models}
    log = RequestLog()
    seed = config.seed

    async def list_models(request: Request) -> Response:
        data = [_model_card(model) for model in config.models]
        return _json({"object": "list", "data": data})

    async def get_model(request: Request) -> Response:
        return _json(_model_card(_lookup(models, request.path_params["model_id"])))

    async def chat(request: Request) -> Response:
        body = await _body(request)
        model = _lookup(models, _model_name(body))
        entry: dict[str, Any] = {"request_id": request.scope[_REQUEST_ID], "model": model.name}
        client_id = request.headers.get(CLIENT_ID_HEADER)
        if client_id is not None:
            entry["client_request_id"] = client_id
        try:
            parsed = parse_chat(body, model, seed)
        except ProxyError as error:
            log.record({**entry, "status": error.status, "error": error.code})
            raise
        fault = parsed.fault
        failing = fault.status is not None and log.should_fail(
            parsed.digest + model.name.encode(), fault.fail_first
        )
        log.record(
            {
                **entry,
                "stream": parsed.stream,
                "effort": parsed.effort,
                "category": parsed.category,
                "fault": list(fault.active()),
                "status": fault.status if failing else 200,
            }
        )
        if failing:
            return await _failure(fault)
        return await _answer(parsed, model.name, seed)

    responses = ResponseStore()

    async def create_response(request: Request) -> Response:
        body = await _body(request)
        model = _lookup(models, _model_name(body))
        require_api(model, "responses")
        request_id = request.scope[_REQUEST_ID]
        turn = read_turn(body, model, seed, responses, request_id)
        fault = turn.parsed.fault
        failing = fault.status is not None and log.should_fail(
            b"responses:" + turn.parsed.digest + model.name.encode(), fault.fail_first
        )
        log.record(
            {
                "request_id": request_id,
                "model": model.name,
                "api": "responses",
                "stream": turn.parsed.stream,
                "effort": turn.parsed.effort,
                "input_types": [
                    i.get("type") for i in body.get("input") or [] if isinstance(i, dict)
                ],
                "fault": list(fault.active()),
                "status": fault.status if failing else 200,
            }
        )
        if failing:
            return await _failure(fault)
        if turn.parsed.stream:
            await sleep_ms(fault.slow_first_byte_ms)
            quiet = no_done(turn.parsed)
            paced = sse_events(
                events(turn, seed, responses), quiet.fault, quiet.ttft_ms, quiet.inter_chunk_ms
            )
            return SimStreamingResponse(paced, media_type=_SSE)
        return _json(answer(turn, seed, responses))

    async def stored_response(request: Request) -> Response:
        response_id = request.path_params["response_id"]
        stored = responses.get(response_id)
        if request.method == "DELETE":
            del responses.items[response_id]
            return _json({"id": response_id, "object": "response.deleted", "deleted": True})
        return _json(stored.response)

    async def stored_items(request: Request) -> Response:
        items = responses.get(request.path_params["response_id"]).items
        return _json(items_page(items, request.query_params))

    async def legacy(request: Request) -> Response:
        body = await _body(request)
        model = _lookup(models, _model_name(body))
        require_api(model, "completions")
        prompts = [
            parse_chat(legacy_chat_body(body, model, prompt), model, seed)
            for prompt in legacy_prompts(body)
        ]
        parsed = prompts[0]
        failing = parsed.fault.status is not None and log.should_fail(
            b"completions:" + parsed.digest + model.name.encode(), parsed.fault.fail_first
        )
        log.record(
            {
                "request_id": request.scope[_REQUEST_ID],
                "model": model.name,
                "api": "completions",
                "stream": parsed.stream,
                "fault": list(parsed.fault.active()),
                "status": parsed.fault.status if failing else 200,
            }
        )
        if failing:
            return await _failure(parsed.fault)
        if parsed.stream:
            paced = sse_events(
                legacy_chunks(prompts, seed), parsed.fault, parsed.ttft_ms, parsed.inter_chunk_ms
            )
            return SimStreamingResponse(paced, media_type=_SSE)
        chats = [completion_body(complete(p, seed), p, model.name) for p in prompts]
        return _json(legacy_body(chats))

    async def embeddings(request: Request) -> Response:
        body = await _body(request)
        model = _lookup(models, _model_name(body))
        log.record({"request_id": request.scope[_REQUEST_ID], "model": model.name, "fault": []})
        return _json(embeddings_body(body, model.name, seed))

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok", "simulated": True, "models": len(models)})

    async def read_log(request: Request) -> Response:
        if request.method == "DELETE":
            log.clear()
            return _json({"cleared": True})
        limit = request.query_params.get("limit", "")
        entries = log.entries(int(limit) if limit.isdigit() else None)
        after = request.query_params.get("after")
        if after:  # only entries newer than this request id (ids sort in order)
            entries = [e for e in entries if e["request_id"] > after]
        return _json({"object": "list", "data": entries})

    routes = [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/responses", create_response, methods=["POST"]),
        Route("/v1/responses/{response_id}", stored_response, methods=["GET", "DELETE"]),
        Route("/v1/responses/{response_id}/input_items", stored_items, methods=["GET"]),
        Route("/v1/completions", legacy, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/sim/log", read_log, methods=["GET", "DELETE"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_SimHeaders, log=log)],
        exception_handlers={
            ProxyError: _proxy_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )


async def _answer(parsed: ChatRequest, model_name: str, seed: int) -> Response:
    """The answer, delayed like a model (headers wait too: that is where `slow_first_byte_ms`
    and a non-streaming answer's whole generation time go)."""
    fault = parsed.fault
    completion = complete(parsed, seed)
    if parsed.stream:
        await sleep_ms(fault.slow_first_byte_ms)
        if fault.error_body_200:
            return Response(b"data: " + _error_bytes(500, fault.message) + b"\n\n", media_type=_SSE)
        events = stream_chunks(completion, parsed, model_name)
        paced = sse_events(events, fault, parsed.ttft_ms, parsed.inter_chunk_ms)
        return SimStreamingResponse(paced, media_type=_SSE)
    chunks = -(-completion.usage.completion_tokens // parsed.tokens_per_chunk)
    await sleep_ms(
        fault.slow_first_byte_ms + parsed.ttft_ms + parsed.inter_chunk_ms * max(0, chunks - 1)
    )
    body = orjson.dumps(completion_body(completion, parsed, model_name))
    if fault.error_body_200:
        body = _error_bytes(500, fault.message)
    elif fault.malformed_json:
        body = body[: len(body) // 2]
    if fault.disconnect_after_chunks is not None:
        length = {"content-length": str(len(body))}
        return SimStreamingResponse(cut_body(body), media_type=_JSON, headers=length)
    return Response(body, media_type=_JSON)


async def _failure(fault: Faults) -> Response:
    await sleep_ms(fault.slow_first_byte_ms)
    status = fault.status or 500
    headers = {"retry-after": str(fault.retry_after_s)} if fault.retry_after_s is not None else {}
    return Response(_error_bytes(status, fault.message), status, headers, _JSON)


def _error_bytes(status: int, message: str) -> bytes:
    kind, code = _ERROR_KINDS.get(status, ("server_error", None))
    return orjson.dumps(error_body(message, kind, code))


def _model_card(model: SimModel) -> dict[str, Any]:
    return {"id": model.name, "object": "model", "created": 1_750_000_000, "owned_by": OWNER}


def _lookup(models: Mapping[str, SimModel], name: str) -> SimModel:
    model = models.get(name)
    if model is None:
        raise NotFound(
            f"The model `{name}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return model


def _model_name(body: Mapping[str, Any]) -> str:
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    return name


async def _body(request: Request) -> Mapping[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(
            "We could not parse the JSON body of your request.", code="invalid_json"
        ) from error
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return body


def _json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=_JSON, headers=headers)


async def _proxy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProxyError)
    return Response(exc.body_bytes(), status_code=exc.status, media_type=_JSON, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind, code = _ERROR_KINDS.get(exc.status_code, ("invalid_request_error", None))
    body = error_body(str(exc.detail), kind, code)
    return _json(body, exc.status_code, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    return _json(error_body("The simulator failed.", "server_error", "internal_error"), 500)
