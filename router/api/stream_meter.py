"""Metering inside a relayed chat stream.

Upstream is always asked for usage (`stream_options.include_usage`). The client gets the usage
chunk only if it asked for it, and then with `usage.cost` and `usage.cost_details` added (as
OpenRouter does). Every stream ends with an SSE comment carrying the cost,
`: tokenwise {"cost_usd": ...}`, before `data: [DONE]` (SDKs ignore comments). When the upstream
sent no usage and the client asked for it, an estimated usage chunk is made from local counts.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.exchange import Exchange
from router.metering.cost import format_usd
from router.upstream.sse import Event, encode_comment, encode_event

SEP = b"\n\n"


class MeteredEvents:
    def __init__(self, exchange: Exchange, client_wants_usage: bool) -> None:
        self.exchange = exchange
        self.client_wants_usage = client_wants_usage
        self.usage_sent = False
        self.frame: dict[str, Any] = {}

    def on_event(self, event: Event) -> bytes | None:
        """The bytes to relay for this event (None: drop it)."""
        chunk = event.json
        if not isinstance(chunk, dict):
            return event.raw + SEP
        if not self.frame and "id" in chunk:
            self.frame = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        self.exchange.tally.add_chunk(chunk)
        usage = chunk.get("usage")
        if usage is None:
            return event.raw + SEP
        if not self.client_wants_usage:
            if not chunk.get("choices"):
                return None
            rest = {k: v for k, v in chunk.items() if k != "usage"}
            return encode_event(rest)
        if not isinstance(usage, dict):
            return event.raw + SEP
        self.usage_sent = True
        return encode_event({**chunk, "usage": {**usage, **self.exchange.bill().in_band()}})

    def before_done(self) -> bytes:
        """The estimated usage chunk when one is owed, then the cost comment."""
        bill = self.exchange.bill()
        out = b""
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
            out = encode_event({**self.frame, "choices": [], "usage": usage})
        summary = {
            "cost_usd": format_usd(bill.cost.total),
            "savings_usd": format_usd(bill.savings),
            "model": self.exchange.route.target.name,
            "estimated": bill.usage.estimated,
        }
        return out + encode_comment("tokenwise " + orjson.dumps(summary).decode())
