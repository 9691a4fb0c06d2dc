"""An upstream's answer, checked before any of it reaches the client (pure checks over I/O).

A JSON answer is read whole: an error status becomes its error, a body that is not a JSON
object or that carries an `error` is a 502. A stream is checked at its start: an error status or
a JSON body raises its error, and its first event (read now, relayed first later) must be
neither malformed nor an error. Until these pass, a failure can still be retried elsewhere.
"""

from __future__ import annotations

from typing import Any

from router.errors import ProxyError, UpstreamProtocolError
from router.upstream.client import UpstreamResponse
from router.upstream.failure import check_json_body, status_error
from router.upstream.sse import MalformedEvent, SSESplitter, parse_event


class Answer:
    __slots__ = ("json", "raw")

    def __init__(self, raw: bytes, json: dict[str, Any]) -> None:
        self.raw = raw
        self.json = json


async def read_answer(resp: UpstreamResponse, provider: str) -> Answer:
    async with resp:
        data = await resp.read()
    if resp.status >= 400:
        raise status_error(resp.status, data, resp.headers, provider)
    parsed = check_json_body(data, provider)
    if isinstance(parsed, ProxyError):
        raise parsed
    return Answer(data, parsed)


async def check_stream(resp: UpstreamResponse, provider: str) -> None:
    """A stream is relayed only once it has begun well: an event-stream whose first event is
    neither malformed nor an error (an error status or a JSON body raises its error). What
    comes after the first event is the relay's to judge, once the client has it."""
    if resp.status >= 400 or "event-stream" not in resp.content_type:
        await read_answer(resp, provider)
        raise UpstreamProtocolError(
            f"The upstream provider '{provider}' answered a streaming request with a "
            "JSON body instead of an event stream."
        )
    first = await resp.first_chunk()
    if not first:
        raise UpstreamProtocolError(
            f"The upstream provider '{provider}' ended the stream before sending anything."
        )
    for raw in SSESplitter().feed(first)[:1]:  # the first event; the rest is the relay's
        try:
            event = parse_event(raw)
        except MalformedEvent as exc:
            raise UpstreamProtocolError(
                f"The upstream provider '{provider}' sent malformed SSE: {exc}"
            ) from None
        if isinstance(event.json, dict) and "error" in event.json:
            err = event.json["error"]
            message = err.get("message") if isinstance(err, dict) else str(err)
            raise UpstreamProtocolError(
                f"The upstream provider '{provider}' answered 200 with an error: {message}"
            )
