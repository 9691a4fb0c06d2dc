"""Where each response id lives, and (for translated upstreams) the conversation behind it.

A response id is only meaningful on the upstream that made it, so the proxy notes, in the store,
which catalog model answered (and for which team) for `responses.ttl_seconds`:
`previous_response_id` then goes back to that model, and `GET`/`DELETE /v1/responses/{id}` reach
it. For a chat-only upstream with `responses.conversations: true` the proxy also keeps the
conversation as chat messages and the response object itself, so it can continue and show it;
for a native upstream, which keeps the conversation itself, the proxy notes how many tokens it
holds (the response's input + output tokens), so the budget of a continuation counts them.
Each id is its own state namespace (`responses:<id>`), put with `responses.ttl_seconds` as its
store ttl, so the store itself deletes it when that time is up (Redis expires the key; SQLite and
memory purge it): the store does not grow with every response ever made. An expired or deleted
id reads as unknown (the `expires` value also says so, for ids kept before stores had a ttl).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from router.store.base import Store

PREFIX = "responses:"


@dataclass(frozen=True)
class Pin:
    target: str  # the catalog model that made the response
    team: str
    messages: list[dict[str, Any]] | None = None  # kept by the proxy (translated upstreams)
    response: dict[str, Any] | None = None
    tokens: int = 0  # the conversation the upstream holds after it (native upstreams)
    effort: str | None = None  # the effort a routing decision gave it (a continuation keeps it)
    items: list[dict[str, Any]] | None = None  # its input items (kept conversations)


def context_tokens(response: Mapping[str, Any]) -> int:
    """The tokens a continuation of ``response`` carries upstream: its input and output."""
    usage = response.get("usage")
    if not isinstance(usage, Mapping):
        return 0
    found = [usage.get("input_tokens"), usage.get("output_tokens")]
    return sum(n for n in found if isinstance(n, int) and not isinstance(n, bool) and n > 0)


async def remember(
    store: Store,
    response_id: str,
    pin: Pin,
    ttl: float,
    *,
    now: float | None = None,
) -> None:
    values = {
        "target": pin.target,
        "team": pin.team,
        "expires": repr((now or time.time()) + ttl),
    }
    if pin.messages is not None:
        values["messages"] = orjson.dumps(pin.messages).decode()
    if pin.response is not None:
        values["response"] = orjson.dumps(pin.response).decode()
    if pin.tokens:
        values["tokens"] = str(pin.tokens)
    if pin.effort is not None:
        values["effort"] = pin.effort
    if pin.items is not None:
        values["items"] = orjson.dumps(pin.items).decode()
    await store.put_state(PREFIX + response_id, values, ttl_seconds=ttl)


async def recall(store: Store, response_id: str, *, now: float | None = None) -> Pin | None:
    values = await store.get_state(PREFIX + response_id)
    try:
        expires = float(values.get("expires", "0"))
    except ValueError:
        return None
    if not values.get("target") or expires <= (now or time.time()):
        return None
    messages = values.get("messages")
    response = values.get("response")
    tokens = values.get("tokens", "0")
    return Pin(
        target=values["target"],
        team=values.get("team", ""),
        messages=orjson.loads(messages) if messages else None,
        response=orjson.loads(response) if response else None,
        tokens=int(tokens) if tokens.isdigit() else 0,
        effort=values.get("effort") or None,
        items=orjson.loads(values["items"]) if values.get("items") else None,
    )


async def forget(store: Store, response_id: str) -> None:
    await store.put_state(PREFIX + response_id, {}, ttl_seconds=0)  # deleted at once
