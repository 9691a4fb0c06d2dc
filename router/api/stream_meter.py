"""Metering inside a relayed chat stream.

Upstream is always asked for usage (`stream_options.include_usage`). The client gets the usage
chunk only if it asked for it, and then with `usage.cost` and `usage.cost_details` added (as
OpenRouter does). Every stream ends with an SSE comment carrying the cost,
`: tokenwise {"cost_usd": ...}`, before `data: [DONE]` (SDKs ignore comments). When the upstream
sent no usage and the client asked for it, an estimated usage chunk is made from local counts.
The time spent here counts as proxy overhead (`Exchange.proxy_seconds`).

With a provider adapter's `StreamTranslator`, each upstream event is translated first (reasoning
moved into its fields, a foreign stream turned into OpenAI chunks), then tallied, then stripped
of reasoning if the client asked to hide it, then relayed: metering always sees the reasoning.
An event the translator leaves unchanged is relayed as its own bytes.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from router.errors import ProxyError
from router.exchange import Exchange
from router.metering.bill import reasoning_ate_the_answer
from router.metering.client_usage import openai_usage_fields
from router.metering.cost import format_usd
from router.providers.base import StreamTranslator
from router.providers.openai_reply import hide_reasoning
from router.upstream.sse import Event, encode_comment, encode_event

SEP = b"\n\n"


class MeteredEvents:
    def __init__(
        self,
        exchange: Exchange,
        client_wants_usage: bool,
        *,
        translator: StreamTranslator | None = None,
        show_reasoning: bool = True,
    ) -> None:
        self.exchange = exchange
        self.client_wants_usage = client_wants_usage
        self.translator = translator
        self.show_reasoning = show_reasoning
        self.usage_sent = False
        self.frame: dict[str, Any] = {}

    @property
    def done(self) -> bool:
        """The upstream's own end-of-stream event arrived (streams without `[DONE]`)."""
        return self.translator is not None and self.translator.done

    def on_event(self, event: Event) -> bytes | None:
        """The bytes to relay for this event (None: drop it)."""
        began = time.perf_counter()
        try:
            return self._relay(event)
        finally:
            self.exchange.proxy_seconds += time.perf_counter() - began

    def before_done(self) -> bytes:
        """The estimated usage chunk when one is owed, then the cost comment."""
        began = time.perf_counter()
        try:
            return self._closing()
        finally:
            self.exchange.proxy_seconds += time.perf_counter() - began

    def on_failure(self, exc: ProxyError) -> bytes:
        """The cost comment for what was generated, then the error event the SDKs raise."""
        return cost_comment(self.exchange) + encode_event(exc.body())

    def _relay(self, event: Event) -> bytes | None:
        chunk = event.json
        if not isinstance(chunk, dict):
            return event.raw + SEP
        if self.translator is None:
            return self._meter(chunk, event.raw)
        chunks = self.translator.feed(chunk)
        if len(chunks) == 1 and chunks[0] is chunk:
            return self._meter(chunk, event.raw)
        return b"".join(filter(None, (self._meter(c, None) for c in chunks))) or None

    def _meter(self, chunk: dict[str, Any], raw: bytes | None) -> bytes | None:
        """Tally one chunk, hide reasoning if asked, and encode it (``raw``: its own bytes)."""
        if not self.frame and "id" in chunk:
            self.frame = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        self.exchange.tally.add_chunk(chunk)
        if not self.show_reasoning:
            shown = hide_reasoning(chunk)
            if shown is not chunk:
                chunk, raw = shown, None
        usage = chunk.get("usage")
        if usage is None:
            return event_bytes(chunk, raw)
        if not self.client_wants_usage:
            if not chunk.get("choices"):
                return None
            rest = {k: v for k, v in chunk.items() if k != "usage"}
            return encode_event(rest)
        if not isinstance(usage, dict):
            return event_bytes(chunk, raw)
        self.usage_sent = True
        bill = self.exchange.bill()
        usage = openai_usage_fields(usage, bill.usage) or usage
        return encode_event({**chunk, "usage": {**usage, **bill.in_band()}})

    def _closing(self) -> bytes:
        out = b""
        if self.translator is not None:
            held = (self._meter(chunk, None) for chunk in self.translator.finish())
            out = b"".join(filter(None, held))
        bill = self.exchange.bill()
        if self.client_wants_usage and not self.usage_sent:
            u = bill.usage
            usage = {
                "prompt_tokens": u.input_total,
                "completion_tokens": u.output_total,
                "total_tokens": u.total,
                "completion_tokens_details": {"reasoning_tokens": u.reasoning_output},
                "estimated": True,
                **bill.in_band(),
            }
            out += encode_event({**self.frame, "choices": [], "usage": usage})
        return out + cost_comment(self.exchange)


def cost_comment(exchange: Exchange) -> bytes:
    """The comment that ends a stream: `: tokenwise {"cost_usd": ...}` (SDKs ignore comments)."""
    bill = exchange.bill()
    summary: dict[str, Any] = {
        "cost_usd": format_usd(bill.cost.total),
        "savings_usd": format_usd(bill.savings),
        "model": exchange.route.target.name,
        "estimated": bill.usage.estimated,
    }
    if reasoning_ate_the_answer(exchange.tally, bill.usage):
        summary["unanswered"] = "the output limit went to reasoning"
    return encode_comment("tokenwise " + orjson.dumps(summary).decode())


def event_bytes(chunk: dict[str, Any], raw: bytes | None) -> bytes:
    return raw + SEP if raw is not None else encode_event(chunk)
