"""Relay an upstream SSE stream to the client as events complete, and stop it when the client goes.

`relay_events` passes each whole event on as soon as its last byte arrives and guarantees the
stream ends in a defined way: `[DONE]` from the upstream, or an OpenAI-style error event (broken
connection, idle or total timeout, malformed SSE, no `[DONE]`) and then `[DONE]` (the SDKs raise
at the error event), never a silent cut.

`EventStreamResponse` watches for the client's disconnect while the relay waits on the upstream
(Starlette's own response only notices when a write fails), so a client that leaves cancels the
upstream request at once and the relay's `finally` closes the upstream connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol

from starlette.types import Receive, Scope, Send

from router.api.stopping import shutdown_error, stopped_by_shutdown
from router.errors import REDACTED, ProxyError, UpstreamProtocolError
from router.upstream.client import UpstreamResponse
from router.upstream.sse import Event, MalformedEvent, SSESplitter, encode_event, parse_event

SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
SEP = b"\n\n"
DONE_EVENT = b"data: [DONE]" + SEP


class StreamEnd:
    """How a relayed stream ended, for metrics and (later) metering."""

    __slots__ = ("error", "first_chunk_at", "outcome")

    def __init__(self) -> None:
        self.outcome = "cancelled"
        self.first_chunk_at: float | None = None
        self.error: ProxyError | None = None  # the error event the client got, if any


class StreamHooks(Protocol):
    def on_event(self, event: Event) -> bytes | None:
        """The bytes to relay for one event (its raw bytes, a rewrite, or None to drop it)."""
        ...

    def before_done(self) -> bytes:
        """Bytes to send just before `data: [DONE]`."""
        ...

    @property
    def done(self) -> bool:
        """True once the last event arrived on a stream that has no `[DONE]` of its own
        (Anthropic's `message_stop`): the relay then ends it with `[DONE]` itself."""
        ...

    def on_failure(self, exc: ProxyError) -> bytes:
        """The bytes that end a stream the upstream broke: the cost so far, then the error."""
        ...


async def relay_events(
    resp: UpstreamResponse,
    end: StreamEnd,
    clock: Callable[[], float],
    hooks: StreamHooks,
    *,
    end_with_done: bool = True,
    redact: bytes | None = None,
) -> AsyncIterator[bytes]:
    """The relayed bytes (``end_with_done=False``: no `data: [DONE]` to the client, as on
    Responses API streams, which end with their last event; `redact`: a secret, the provider's
    key, to blank out should the upstream echo it)."""
    splitter = SSESplitter()
    finished = False
    try:
        async for data in resp.chunks():
            out: list[bytes] = []
            malformed: MalformedEvent | None = None
            for raw in splitter.feed(data):
                try:
                    event = parse_event(raw)
                except MalformedEvent as exc:
                    malformed = exc
                    break
                if event.is_done:
                    out.append(hooks.before_done())
                    if end_with_done:
                        out.append(raw + SEP)
                    finished = True
                    break
                if isinstance(event.json, dict) and "error" in event.json:
                    end.outcome = "upstream_error"
                relayed = hooks.on_event(event)
                if relayed is not None:
                    out.append(relayed)
                if hooks.done:
                    out.append(hooks.before_done())
                    if end_with_done:
                        out.append(DONE_EVENT)
                    finished = True
                    break
            if out:
                if end.first_chunk_at is None:
                    end.first_chunk_at = clock()
                payload = b"".join(out)
                if redact and redact in payload:
                    payload = payload.replace(redact, REDACTED.encode())
                yield payload
            if malformed is not None:
                raise malformed
            if finished:
                break
        if not finished:
            raise UpstreamProtocolError(
                "The upstream provider ended the stream without finishing it (no [DONE])."
            )
        if end.outcome == "cancelled":
            end.outcome = "ok"
    except MalformedEvent as exc:
        end.outcome = "upstream_error"
        broken = UpstreamProtocolError(f"The upstream provider sent malformed SSE: {exc}")
        end.error = broken
        yield hooks.on_failure(broken) + (DONE_EVENT if end_with_done else b"")
    except ProxyError as exc:
        end.outcome = "timeout" if exc.status == 504 else "upstream_error"
        end.error = exc
        yield hooks.on_failure(exc) + (DONE_EVENT if end_with_done else b"")
    finally:
        resp.close()


def error_event(exc: ProxyError) -> bytes:
    return encode_event(exc.body())


class EventStreamResponse:
    """A text/event-stream response that cancels its body iterator when the client disconnects."""

    def __init__(
        self,
        body: AsyncIterator[bytes],
        headers: Mapping[str, str],
        on_close: Callable[[], Awaitable[None]] | None = None,
        farewell: Callable[[ProxyError], bytes] | None = None,
    ) -> None:
        self.body = body
        self.on_close = on_close
        self.farewell = farewell  # how this stream ends on an error (router.api.stopping)
        raw = [(b"content-type", b"text/event-stream; charset=utf-8")]
        raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in SSE_HEADERS.items()]
        raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        gone = asyncio.Event()
        streaming = True

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if streaming:
                        gone.set()
                        task.cancel()
                    return

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            streaming = False
            watcher.cancel()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError as exc:
            if gone.is_set():
                task.uncancel()
            elif self.farewell is not None and stopped_by_shutdown(exc):
                task.uncancel()  # the grace period ended: the stream ends as a failed one does
                end = self.farewell(shutdown_error())
                await send({"type": "http.response.body", "body": end, "more_body": False})
            else:
                raise
        except OSError:
            pass  # the client went away while we wrote
        finally:
            watcher.cancel()
            aclose = getattr(self.body, "aclose", None)
            if aclose is not None:
                await aclose()
            if self.on_close is not None:
                await self.on_close()
