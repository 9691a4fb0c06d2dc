"""The floor: the cheapest FastAPI + uvicorn + aiohttp pass-through of chat completions.

One pooled `aiohttp.ClientSession` built in the lifespan; the request body and the
Authorization header go upstream unchanged; a JSON answer is relayed as bytes, an SSE answer
chunk by chunk as the upstream sends it. No parsing, no validation: whatever a real proxy
costs above this is the price of what it does.

    python bench/floor_proxy.py --port 18100 --upstream http://127.0.0.1:18000/v1
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

POOL_LIMIT = 1024


def create_app(upstream: str) -> FastAPI:
    """A FastAPI app relaying POST /v1/chat/completions to `upstream` (an OpenAI base URL)."""
    target = upstream.rstrip("/") + "/chat/completions"
    sessions: list[aiohttp.ClientSession] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=POOL_LIMIT, keepalive_timeout=60)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=120)
        session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        sessions.append(session)
        try:
            yield
        finally:
            await session.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.body()
        headers = {"Content-Type": "application/json"}
        auth = request.headers.get("authorization")
        if auth is not None:
            headers["Authorization"] = auth
        upstream_response = await sessions[0].post(target, data=body, headers=headers)
        if upstream_response.content_type == "text/event-stream":
            return StreamingResponse(
                _relay(upstream_response),
                status_code=upstream_response.status,
                media_type="text/event-stream",
            )
        try:
            data = await upstream_response.read()
        finally:
            upstream_response.release()
        return Response(data, upstream_response.status, media_type=upstream_response.content_type)

    return app


async def _relay(upstream_response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream_response.content.iter_any():
            yield chunk
    finally:
        upstream_response.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--upstream", default="http://127.0.0.1:18000/v1", help="OpenAI base URL")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.upstream),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
