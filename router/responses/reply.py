"""A chat completion as a Responses API `response` object (pure).

The answer of the first choice becomes output items in the order the chat model produced them:
a `reasoning` item (its text as a `summary_text`, only when the client asked for a summary), a
`message` item with one `output_text` part (or a `refusal` part), and one `function_call` item
per tool call. Usage is renamed (`prompt_tokens` -> `input_tokens`, cached and reasoning counts
in `input_tokens_details` / `output_tokens_details`); a `length` finish is status `incomplete`
with `incomplete_details.reason: max_output_tokens`. The request's own settings are echoed as
OpenAI echoes them. Item ids derive from the response id and the item's position, so a
streamed answer (router.responses.events) ends with the very same object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

ECHOED: Final[dict[str, Any]] = {
    "instructions": None,
    "max_output_tokens": None,
    "max_tool_calls": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "prompt_cache_key": None,
    "safety_identifier": None,
    "service_tier": "default",
    "store": True,
    "temperature": 1.0,
    "tool_choice": "auto",
    "tools": [],
    "top_logprobs": 0,
    "top_p": 1.0,
    "truncation": "disabled",
    "user": None,
}
INCOMPLETE: Final = {"length": "max_output_tokens", "content_filter": "content_filter"}


def item_id(prefix: str, response_id: str, index: int) -> str:
    digest = hashlib.blake2b(f"{response_id}/{index}".encode(), digest_size=16).hexdigest()
    return f"{prefix}_{digest}"


def reasoning_item(item: str, text: str) -> dict[str, Any]:
    return {"id": item, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def text_part(text: str, logprobs: list[Any] | None = None) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs or []}


def message_item(item: str, parts: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {"id": item, "type": "message", "role": "assistant", "status": status, "content": parts}


def function_call_item(
    item: str, call_id: str, name: str, arguments: str, status: str
) -> dict[str, Any]:
    return {
        "id": item,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def usage(chat: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Chat `usage` in the Responses names (None stays None)."""
    if not isinstance(chat, Mapping):
        return None
    prompt = chat.get("prompt_tokens") or 0
    completion = chat.get("completion_tokens") or 0
    prompt_details = chat.get("prompt_tokens_details") or {}
    completion_details = chat.get("completion_tokens_details") or {}
    out: dict[str, Any] = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": prompt_details.get("cached_tokens") or 0},
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": completion_details.get("reasoning_tokens") or 0
        },
        "total_tokens": chat.get("total_tokens") or prompt + completion,
    }
    for key in ("cost", "cost_details", "estimated"):
        if key in chat:
            out[key] = chat[key]
    return out


def echo(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request's settings, as a `response` object repeats them."""
    out = {key: request.get(key, default) for key, default in ECHOED.items()}
    if out["metadata"] is None:
        out["metadata"] = {}
    reasoning = request.get("reasoning")
    reasoning = reasoning if isinstance(reasoning, Mapping) else {}
    out["reasoning"] = {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
    text = request.get("text")
    out["text"] = dict(text) if isinstance(text, Mapping) else {"format": {"type": "text"}}
    out["text"].setdefault("format", {"type": "text"})
    return out


def response_object(
    request: Mapping[str, Any],
    response_id: str,
    *,
    model: str,
    created: int,
    output: list[dict[str, Any]],
    status: str,
    finish_reason: str | None = None,
    usage_body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    incomplete = INCOMPLETE.get(finish_reason or "") if status != "in_progress" else None
    if incomplete is not None:
        status = "incomplete"
        output = [{**i, "status": "incomplete"} if i["type"] == "message" else i for i in output]
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": model,
        "output": output,
        **echo(request),
        "usage": usage_body,
    }
    if status == "completed":
        body["completed_at"] = created
    return body


def output_items(
    message: Mapping[str, Any], response_id: str, summary: bool, logprobs: list[Any] | None
) -> list[dict[str, Any]]:
    """One chat choice's message as output items (reasoning, message, function calls)."""
    items: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if summary and isinstance(reasoning, str) and reasoning:
        items.append(reasoning_item(item_id("rs", response_id, len(items)), reasoning))
    content, refusal = message.get("content"), message.get("refusal")
    if isinstance(refusal, str) and refusal:
        part = {"type": "refusal", "refusal": refusal}
        items.append(message_item(item_id("msg", response_id, len(items)), [part], "completed"))
    elif isinstance(content, str) and content:
        parts = [text_part(content, logprobs)]
        items.append(message_item(item_id("msg", response_id, len(items)), parts, "completed"))
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        items.append(
            function_call_item(
                item_id("fc", response_id, len(items)),
                call.get("id") or item_id("call", response_id, len(items)),
                fn.get("name") or "",
                fn.get("arguments") or "",
                "completed",
            )
        )
    return items


def to_response(
    chat: Mapping[str, Any],
    request: Mapping[str, Any],
    response_id: str,
    *,
    summary: bool,
    created: int,
) -> dict[str, Any]:
    """The `response` object for a (translated, OpenAI-shaped) chat completion."""
    choices = chat.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    message = choice.get("message") or {}
    logprobs = (choice.get("logprobs") or {}).get("content")
    return response_object(
        request,
        response_id,
        model=chat.get("model") or request.get("model") or "",
        created=created,
        output=output_items(message, response_id, summary, logprobs),
        status="completed",
        finish_reason=choice.get("finish_reason"),
        usage_body=usage(chat.get("usage")),
    )
