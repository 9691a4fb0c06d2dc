"""Metering inside a relayed Responses API stream (the hooks `relay_events` calls).

`NativeEvents`: an upstream that speaks Responses streams its own events; each is relayed as
its own bytes and tallied, except the final one (`response.completed`, `.incomplete`,
`.failed`), whose `response.usage` gains `cost` and `cost_details` (as a chat stream's usage
chunk does). `TranslatedEvents`: a chat-completions upstream's chunks go through the provider
adapter's translator, are tallied as on chat, and become Responses events
(router.responses.events); the final `response.usage` is the upstream's usage renamed, or a
local count marked `estimated`, with the cost. Both end with the in-band cost comment
(`: tokenwise {...}`); neither sends `data: [DONE]` (a Responses stream ends with its last event).
"""

from __future__ import annotations

import time
from typing import Any

from router.api.stream_meter import cost_comment
from router.errors import ProxyError
from router.exchange import Exchange
from router.providers.base import StreamTranslator
from router.responses.events import ResponseEvents, encode
from router.responses.meter import TERMINAL, add_event
from router.responses.reply import usage
from router.upstream.sse import Event

SEP = b"\n\n"


def estimated_usage(exchange: Exchange) -> dict[str, Any]:
    u = exchange.bill().usage
    return {
        "input_tokens": u.input_total,
        "input_tokens_details": {"cached_tokens": u.input_cached},
        "output_tokens": u.output_total,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_output},
        "total_tokens": u.total,
        "estimated": True,
    }


def failure_event(exc: ProxyError, sequence: int) -> bytes:
    """A broken stream's last event as the Responses API names it (`event: error`, `type`,
    `code`, `message`, `param`), also carrying the chat-style `error` object that the SDKs
    raise as an APIError."""
    error = exc.body()["error"]
    fields = {k: error[k] for k in ("code", "message", "param")}
    return encode({"type": "error", "sequence_number": sequence, **fields, "error": error})


class NativeEvents:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.response: dict[str, Any] | None = None  # the final response object
        self.failed = False  # the upstream ended with response.failed or an error event
        self._done = False
        self.sequence = -1  # the last event's sequence_number

    @property
    def done(self) -> bool:
        return self._done

    def on_event(self, event: Event) -> bytes | None:
        began = time.perf_counter()
        try:
            return self._relay(event)
        finally:
            self.exchange.proxy_seconds += time.perf_counter() - began

    def on_failure(self, exc: ProxyError) -> bytes:
        return cost_comment(self.exchange) + failure_event(exc, self.sequence + 1)

    def _relay(self, event: Event) -> bytes | None:
        data = event.json
        if not isinstance(data, dict):
            return event.raw + SEP
        if isinstance(data.get("sequence_number"), int):
            self.sequence = data["sequence_number"]
        add_event(self.exchange.tally, data)
        response = data.get("response")
        if data.get("type") not in TERMINAL:
            return event.raw + SEP
        self._done = True
        self.failed = data.get("type") in ("response.failed", "error")
        if self.failed or not isinstance(response, dict):
            return event.raw + SEP
        self.response = response
        if not isinstance(response.get("usage"), dict):
            return event.raw + SEP
        costed = {**response["usage"], **self.exchange.bill().in_band()}
        return encode({**data, "response": {**response, "usage": costed}})

    def before_done(self) -> bytes:
        return cost_comment(self.exchange)


class TranslatedEvents:
    def __init__(
        self, exchange: Exchange, translator: StreamTranslator, state: ResponseEvents
    ) -> None:
        self.exchange = exchange
        self.translator = translator
        self.state = state
        self.response: dict[str, Any] | None = None
        self.failed = False  # an upstream error arrives as an error chunk (the relay counts it)

    @property
    def done(self) -> bool:
        return self.translator.done

    def on_event(self, event: Event) -> bytes | None:
        began = time.perf_counter()
        try:
            chunk = event.json
            if not isinstance(chunk, dict):
                return None
            if "error" in chunk:
                return event.raw + SEP  # the SDK raises it as an APIError
            return self._emit(self.translator.feed(chunk)) or None
        finally:
            self.exchange.proxy_seconds += time.perf_counter() - began

    def on_failure(self, exc: ProxyError) -> bytes:
        self.failed = True
        return cost_comment(self.exchange) + failure_event(exc, self.state.take_sequence())

    def _emit(self, chunks: list[dict[str, Any]]) -> bytes:
        out = []
        for chunk in chunks:
            self.exchange.tally.add_chunk(chunk)
            out += [encode(e) for e in self.state.feed(chunk)]
        return b"".join(out)

    def before_done(self) -> bytes:
        began = time.perf_counter()
        try:
            out = self._emit(self.translator.finish())
            reported = usage(self.state.usage) or estimated_usage(self.exchange)
            final = self.state.finish({**reported, **self.exchange.bill().in_band()})
            self.response = final[-1]["response"]
            return out + b"".join(encode(e) for e in final) + cost_comment(self.exchange)
        finally:
            self.exchange.proxy_seconds += time.perf_counter() - began
