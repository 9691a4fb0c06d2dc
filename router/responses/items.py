"""A response's input items, and the page `GET /v1/responses/{id}/input_items` answers with.

`input_items` turns a request's `input` into the items OpenAI lists for it: a string becomes one
user message, a message's text content becomes parts with a status, every item gets an id. The
proxy keeps them with a conversation it holds itself (a chat-only upstream), and the simulator
with each response it stores, so both list them the same way. `page` applies the query the
endpoint takes: `limit` (1-100, default 20), `order` (`asc`, or `desc`, the default: newest
first) and `after` (an item id: the items that follow it in that order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from router.errors import InvalidRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def input_items(body: Mapping[str, Any], response_id: str) -> list[dict[str, Any]]:
    """The request's `input` as items, a string as one user message (as OpenAI lists them)."""
    given = body.get("input")
    if isinstance(given, str):
        part = {"type": "input_text", "text": given}
        given = [{"type": "message", "role": "user", "content": [part]}]
    items = []
    for index, item in enumerate(given if isinstance(given, list) else []):
        if isinstance(item, Mapping):
            found = {"type": "message", **item}
            if found["type"] == "message":
                found = _full_message(found)
            found.setdefault("id", f"msg_{response_id.removeprefix('resp_')}_{index}")
            items.append(found)
    return items


def _full_message(item: dict[str, Any]) -> dict[str, Any]:
    """A message in the form OpenAI lists it: text content as parts (`output_text` for the
    assistant, `input_text` for the others) and a status; the shorthand a client may send
    (`{"role": "user", "content": "hi"}`) would be read by the SDKs as an output message."""
    content = item.get("content")
    if isinstance(content, str):
        if item.get("role") == "assistant":
            part: dict[str, Any] = {"type": "output_text", "text": content, "annotations": []}
        else:
            part = {"type": "input_text", "text": content}
        item = {**item, "content": [part]}
    return {**item, "status": item.get("status") or "completed"}


def page(items: Sequence[Mapping[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of `items` (kept oldest first) for the endpoint's query parameters."""
    limit = _limit(query.get("limit"))
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest(f"order must be 'asc' or 'desc'; got {order!r}.", param="order")
    ordered = list(items) if order == "asc" else list(reversed(items))
    after = query.get("after")
    if after is not None:
        ids = [item.get("id") for item in ordered]
        if after not in ids:
            raise InvalidRequest(
                f"after names no input item of this response: {after!r}.", param="after"
            )
        ordered = ordered[ids.index(after) + 1 :]
    data = ordered[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": len(ordered) > limit,
    }


def _limit(given: str | None) -> int:
    if given is None:
        return DEFAULT_LIMIT
    if not given.isdigit() or not 1 <= int(given) <= MAX_LIMIT:
        raise InvalidRequest(
            f"limit must be an integer from 1 to {MAX_LIMIT}; got {given!r}.", param="limit"
        )
    return int(given)
