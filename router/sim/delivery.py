"""How a rendered answer reaches the wire: latency, and the faults that break delivery.

An abrupt close works like this: the body iterator raises `Disconnect`, the response stops
without sending the final (empty, `more_body: False`) body message, and the ASGI app returns.
uvicorn then logs "ASGI callable returned without completing response" and closes the
transport, so the client reads a chunked body with no terminating chunk, or fewer bytes than
`content-length`: an incomplete read, exactly what a dropped upstream looks like.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from starlette.responses import StreamingResponse
from starlette.types import Send

from router.sim.faults import Faults

DONE = b"data: [DONE]\n\n"
GARBAGE = b'data: {"id": "chatcmpl-sim", "choices": [{"delta": {"content": \x00oops\n\n'


class Disconnect(Exception):
    """Raised inside a body iterator: drop the connection at this point."""


class SimStreamingResponse(StreamingResponse):
    """A streaming response that ends without completing when its iterator says `Disconnect`."""

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                await send({"type": "http.response.body", "body": data, "more_body": True})
        except Disconnect:
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def sleep_ms(milliseconds: int) -> None:
    if milliseconds > 0:
        await asyncio.sleep(milliseconds / 1000)


async def sse_events(
    events: Iterator[bytes], fault: Faults, ttft_ms: int, inter_chunk_ms: int
) -> AsyncIterator[bytes]:
    """The stream's events paced like a model, with the stream faults applied."""
    await sleep_ms(ttft_ms)
    sent = 0
    for event in events:
        if sent == fault.disconnect_after_chunks:
            raise Disconnect
        if sent == fault.idle_after_chunks:
            await sleep_ms(fault.idle_ms)
        elif sent:
            await sleep_ms(inter_chunk_ms)
        yield event
        sent += 1
        if fault.malformed_sse and sent == 1:
            yield GARBAGE
    if fault.disconnect_after_chunks is not None:
        raise Disconnect
    if sent == fault.idle_after_chunks:
        await sleep_ms(fault.idle_ms)
    if not fault.no_done:
        yield DONE


async def cut_body(body: bytes) -> AsyncIterator[bytes]:
    """The first half of a body, then a dropped connection."""
    yield body[: len(body) // 2]
    raise Disconnect
