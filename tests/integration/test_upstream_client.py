"""The upstream client against a real HTTP server: bodies read whole or as they arrive, the
response limit, and a caller's own limit (`until`) that bounds a stream's start only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from router.config.schema import Timeouts
from router.errors import UpstreamProtocolError, UpstreamTimeout
from router.localserver import ServerThread, serving
from router.upstream.client import Upstream

BODY = b'{"answer": "' + b"x" * 1000 + b'"}'


async def chunked(request: Request) -> Response:
    async def one_piece() -> AsyncIterator[bytes]:
        yield BODY  # no content-length: the size is known only once read

    return StreamingResponse(one_piece(), media_type="application/json")


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return Response(BODY, media_type="application/json")


async def trickle(request: Request) -> Response:
    async def events() -> AsyncIterator[bytes]:
        for n in range(6):
            yield f"data: {n}\n\n".encode()
            await asyncio.sleep(0.1)

    return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    routes = [Route(f"/{f.__name__}", f, methods=["POST"]) for f in (chunked, slow, trickle)]
    with serving(Starlette(routes=routes)) as running:
        yield running


def timeouts(idle: float = 5.0) -> Timeouts:
    return Timeouts(connect=2, first_byte=5, idle=idle, total=10)


async def call(server: ServerThread, path: str, limit: int, until: float | None = None) -> bytes:
    upstream = Upstream(timeouts(), limit)
    await upstream.start()
    try:
        url = f"http://127.0.0.1:{server.port}/{path}"
        resp = await upstream.send("POST", url, b"{}", {}, until=until)
        await asyncio.sleep(0.2)  # the whole body has arrived before it is read
        return await resp.read()
    finally:
        await upstream.close()


async def test_a_body_that_has_arrived_is_read_whole(server: ServerThread) -> None:
    assert await call(server, "chunked", limit=len(BODY)) == BODY


async def test_a_body_that_has_arrived_is_still_held_to_the_limit(server: ServerThread) -> None:
    with pytest.raises(UpstreamProtocolError) as refused:
        await call(server, "chunked", limit=len(BODY) - 1)
    assert refused.value.code == "response_too_large"


async def test_the_callers_limit_cuts_the_wait_for_the_first_byte(server: ServerThread) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(UpstreamTimeout):
        await call(server, "slow", limit=len(BODY), until=began + 0.3)
    assert loop.time() - began < 1.5  # the server answers after 2 s; first_byte is 5 s


async def test_a_lifted_limit_lets_a_stream_run_past_it(server: ServerThread) -> None:
    upstream = Upstream(timeouts(idle=1.0))
    await upstream.start()
    try:
        loop = asyncio.get_running_loop()
        url = f"http://127.0.0.1:{server.port}/trickle"
        resp = await upstream.send("POST", url, b"{}", {}, until=loop.time() + 0.25)
        assert await resp.first_chunk() == b"data: 0\n\n"
        resp.lift()
        received = b"".join([chunk async for chunk in resp.chunks()])
        assert received.count(b"data: ") == 6  # 0.5 s of events, well past the caller's limit
    finally:
        await upstream.close()
