"""An OpenAI-compatible upstream that misbehaves on purpose, served on loopback for the security
tests: it records every request, and by the `model` it is asked for it

- answers normally (`plain`), as JSON (setting a session cookie) or as an event stream;
- echoes the Authorization header it received, as some providers do in a 401 (`echo-401`),
  in a 200 error body (`echo-200`), mid-stream (`echo-stream`) or inside an answer (`echo-ok`);
- sends more than any proxy should buffer (`huge`; `huge-chunked`, without a content-length;
  `huge-stream`);
- does the same echoing on its Responses API (`/v1/responses`, JSON and events, and
  `GET /v1/responses/{id}`, which always echoes) and on legacy completions (`/v1/completions`);
- replays, whatever the model, the exact bytes a request's last message asks for, when that
  message is `REPLAY:{"stream": bool, "raw": str}` (the end-to-end fuzz of upstream answers).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HUGE = 300_000  # bytes: past the limit the security tests configure


def completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-hostile",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def chunk(model: str, content: str | None, finish: str | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def usage_chunk(model: str) -> bytes:
    body = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


RESPONSE_ID = "resp_hostile"
USAGE = {
    "input_tokens": 5,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 8,
}


def response_object(model: str, text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    message = {
        "type": "message",
        "id": "msg_hostile",
        "role": "assistant",
        "status": "completed",
        "content": [part],
    }
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": model,
        "output": [message],
        "usage": USAGE,
    }


def response_event(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def text_completion(model: str, text: str, finish: str | None, *, usage: bool) -> dict[str, Any]:
    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
    body: dict[str, Any] = {
        "id": "cmpl-hostile",
        "object": "text_completion",
        "created": 1,
        "model": model,
        "choices": [choice],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    return body


REPLAY = "REPLAY:"


def replayed(body: dict[str, Any]) -> dict[str, Any] | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    text = messages[-1].get("content")
    if not isinstance(text, str) or not text.startswith(REPLAY):
        return None
    spec: dict[str, Any] = json.loads(text[len(REPLAY) :])
    return spec


def bad_key(auth: str) -> JSONResponse:
    """A 401 that echoes the key it was given."""
    return JSONResponse({"error": {"message": f"bad key {auth}"}}, status_code=401)


def echoed(model: str, auth: str) -> str:
    """The answer text: the key itself for the echoing models."""
    return f"your key is {auth}" if model in ("echo-ok", "echo-stream") else "hello"


def create_hostile_app() -> Starlette:
    seen: list[dict[str, Any]] = []

    async def heard(request: Request, *, has_body: bool = True) -> tuple[dict[str, Any], str]:
        """Logs the request in `seen`; its JSON body ({} without one) and its authorization."""
        body = await request.json() if has_body else None
        seen.append({"path": request.url.path, "headers": dict(request.headers), "body": body})
        return body or {}, request.headers.get("authorization", "")

    async def chat(request: Request) -> Response:
        body, auth = await heard(request)
        model = body.get("model", "")
        stream = bool(body.get("stream"))
        replay = replayed(body)
        if replay is not None:
            kind = "text/event-stream" if replay["stream"] else "application/json"
            return Response(replay["raw"].encode("utf-8", "surrogatepass"), media_type=kind)
        if model == "echo-401":
            message = f"Incorrect API key provided: {auth}. You can find your key online."
            error = {"message": message, "type": "invalid_request_error", "code": "invalid_key"}
            return JSONResponse({"error": error}, status_code=401)
        if model == "echo-200":
            return JSONResponse({"error": {"message": f"key {auth} is over quota"}})
        if model == "huge" and not stream:
            return JSONResponse(completion(model, "x" * HUGE))
        if model == "huge-chunked" and not stream:  # no content-length: the size shows late
            whole = json.dumps(completion(model, "x" * HUGE)).encode()

            async def pieces() -> AsyncIterator[bytes]:
                yield whole[: len(whole) // 2]
                yield whole[len(whole) // 2 :]

            return StreamingResponse(pieces(), media_type="application/json")
        if not stream:
            text = f"your key is {auth}" if model == "echo-ok" else "hello"
            answer = JSONResponse(completion(model, text))
            answer.set_cookie("hostile-session", f"for-{body.get('user', 'anyone')}")
            return answer

        async def events() -> AsyncIterator[bytes]:
            yield chunk(model, "hel")
            if model == "echo-stream":
                error = {"error": {"message": f"stream broke for {auth}", "type": "server_error"}}
                yield b"data: " + json.dumps(error).encode() + b"\n\n"
                return
            if model == "huge-stream":
                for _ in range(HUGE // 1000):
                    yield chunk(model, "y" * 1000)
            yield chunk(model, "lo", "stop")
            yield usage_chunk(model)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def embeddings(request: Request) -> Response:
        body, auth = await heard(request)
        if body.get("model") == "echo-401":
            return bad_key(auth)
        return JSONResponse(
            {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "model": body.get("model"),
                "usage": {"prompt_tokens": 2, "total_tokens": 2},
            }
        )

    async def responses(request: Request) -> Response:
        body, auth = await heard(request)
        model = body.get("model", "")
        if model == "echo-401":
            return bad_key(auth)
        if model == "echo-200":
            return JSONResponse({"error": {"message": f"key {auth} is over quota"}})
        text = echoed(model, auth)
        if not body.get("stream"):
            return JSONResponse(response_object(model, text))

        async def events() -> AsyncIterator[bytes]:
            yield response_event({"type": "response.created", "response": {"id": RESPONSE_ID}})
            yield response_event({"type": "response.output_text.delta", "delta": text})
            if model == "echo-stream":
                yield response_event({"type": "error", "message": f"stream broke for {auth}"})
                return
            final = response_object(model, text)
            yield response_event({"type": "response.completed", "response": final})

        return StreamingResponse(events(), media_type="text/event-stream")

    async def stored(request: Request) -> Response:
        _, auth = await heard(request, has_body=False)
        return JSONResponse(response_object("plain", f"stored for {auth}"))

    async def completions(request: Request) -> Response:
        body, auth = await heard(request)
        model = body.get("model", "")
        if model == "echo-401":
            return bad_key(auth)
        text = echoed(model, auth)
        if not body.get("stream"):
            return JSONResponse(text_completion(model, text, "stop", usage=True))

        async def chunks() -> AsyncIterator[bytes]:
            for piece in (text, None):
                done = None if piece else "stop"
                data = text_completion(model, piece or "", done, usage=piece is None)
                yield b"data: " + json.dumps(data).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def catch_all(request: Request) -> Response:
        await heard(request, has_body=False)
        return JSONResponse({"error": {"message": "no such path"}}, status_code=404)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
            Route("/v1/responses/{response_id}", stored, methods=["GET"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/{path:path}", catch_all, methods=["GET", "POST", "PUT", "DELETE"]),
        ]
    )
    app.state.seen = seen
    return app
