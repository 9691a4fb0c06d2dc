"""A Responses API request as a chat-completions request (pure).

`to_chat(body)` reads `input` items, `instructions`, function tools and their outputs,
`tool_choice`, `text.format` (json_schema, json_object), `reasoning.effort` and the sampling
and bookkeeping fields, and writes the chat body an upstream that speaks only chat completions
takes. Fields the proxy does not know are forwarded as they are (as on chat). What has no
chat equivalent is refused with a 400 naming the item (`input[3]`, `tools[0]`): built-in tools
(web search, file search, computer use, ...), item references, background runs, server-side
conversations and prompt templates. Reasoning items from earlier turns are left out (a chat
upstream takes no reasoning input); `store` and `previous_response_id` are the endpoint's
business.

With `lenient=True` what has no chat equivalent is skipped instead of refused. The endpoint
uses that view only to route and budget a request that goes to a native Responses upstream
unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from router.errors import InvalidRequest
from router.responses.options import (
    Untranslatable,
    chat_tool_choice,
    chat_tools,
    write_text_format,
)

# Responses fields this module translates (or leaves to the endpoint); any other is forwarded.
HANDLED: Final = frozenset(
    {
        "model",
        "input",
        "instructions",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "text",
        "reasoning",
        "max_output_tokens",
        "top_logprobs",
        "include",
        "store",
        "previous_response_id",
        "truncation",
        "background",
        "conversation",
        "prompt",
        "max_tool_calls",
    }
)
REFUSED: Final = {
    "background": "background runs need the upstream to store and poll responses",
    "conversation": "server-side conversations live only on a Responses upstream",
    "prompt": "stored prompt templates live only on a Responses upstream",
}
MESSAGE_ROLES: Final = ("user", "assistant", "system", "developer")
TEXT_PARTS: Final = ("input_text", "output_text", "text")


@dataclass(frozen=True)
class ChatView:
    """The chat body, and what the answer needs to know about the request."""

    body: dict[str, Any]
    summary: bool  # the client asked for a reasoning summary
    logprobs: bool
    turn: list[dict[str, Any]]  # this request's input as messages (no instructions, no history)


def to_chat(
    body: Mapping[str, Any],
    *,
    lenient: bool = False,
    history: list[dict[str, Any]] | None = None,
) -> ChatView:
    """The chat view of ``body``; ``history``: the messages of the conversation so far (a
    stored `previous_response_id`), placed after the instructions and before the input."""
    out: dict[str, Any] = {k: v for k, v in body.items() if k not in HANDLED}
    out["model"] = body.get("model")
    for key, why in REFUSED.items():
        if body.get(key) not in (None, False) and not lenient:
            raise Untranslatable(
                f"'{key}' cannot be sent to a chat-completions model: {why}.", param=key
            )
    earlier = tuple(
        call["id"] for m in history or [] for call in m.get("tool_calls") or [] if "id" in call
    )
    turn = input_messages(body.get("input"), lenient=lenient, known_calls=earlier)
    out["messages"] = [*_instructions(body.get("instructions")), *(history or []), *turn]
    if body.get("stream") is True:
        out["stream"] = True
    tools = chat_tools(body.get("tools"), lenient)
    if tools:
        out["tools"] = tools
    if body.get("tool_choice") is not None:
        choice = chat_tool_choice(body["tool_choice"], lenient)
        if choice is not None:
            out["tool_choice"] = choice
    write_text_format(body.get("text"), out, lenient)
    reasoning = body.get("reasoning")
    summary = False
    if isinstance(reasoning, Mapping):
        if reasoning.get("effort") is not None:
            out["reasoning_effort"] = reasoning["effort"]
        wanted = reasoning.get("summary") or reasoning.get("generate_summary")
        summary = wanted not in (None, "none")
    elif reasoning is not None:
        raise InvalidRequest("'reasoning' must be an object.", param="reasoning")
    if body.get("max_output_tokens") is not None:
        out["max_completion_tokens"] = body["max_output_tokens"]
    include = body.get("include")
    logprobs = isinstance(include, list) and "message.output_text.logprobs" in include
    if body.get("top_logprobs") is not None:
        logprobs = True
        out["top_logprobs"] = body["top_logprobs"]
    if logprobs:
        out["logprobs"] = True
    return ChatView(out, summary, logprobs, turn)


def _instructions(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "system", "content": value}] if value else []
    if isinstance(value, list):
        return input_messages(value, lenient=False, param="instructions")
    raise InvalidRequest("'instructions' must be a string.", param="instructions")


def input_messages(
    value: Any, *, lenient: bool = False, param: str = "input", known_calls: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """`input` (a string or a list of items) as chat messages (``known_calls``: call ids made
    earlier in the conversation, which an output may answer)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise InvalidRequest(f"'{param}' must be a string or an array of items.", param=param)
    messages: list[dict[str, Any]] = []
    calls: set[str] = set(known_calls)
    thought: str | None = None  # a reasoning item's text, for the assistant turn that follows
    for index, item in enumerate(value):
        where = f"{param}[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"{where} must be an object.", param=where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "reasoning":
            thought = reasoning_text(item)
            continue
        if kind == "message":
            messages.append(_message(item, where, lenient))
        elif kind == "function_call":
            calls.add(_function_call(item, where, messages))
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if call_id not in calls and not lenient:
                raise InvalidRequest(
                    f"{where} is a function_call_output for call_id {call_id!r}, but no "
                    "function_call with that call_id comes before it in the input.",
                    param=where,
                )
            messages.append(
                {"role": "tool", "tool_call_id": call_id, "content": _output(item.get("output"))}
            )
        elif not lenient:
            raise Untranslatable(
                f"{where} has type {kind!r}, which a chat-completions model cannot take "
                "(it understands message, function_call, function_call_output and reasoning "
                "items).",
                param=where,
            )
        if thought and kind in ("message", "function_call") and messages:
            last = messages[-1]
            if last["role"] == "assistant" and not last.get("reasoning_content"):
                last["reasoning_content"] = thought  # the adapter sends it as its host wants
        thought = None
    return messages


def reasoning_text(item: Mapping[str, Any]) -> str | None:
    """A reasoning item's text: its `reasoning_text` content, else its summaries."""
    for field, kind in (("content", "reasoning_text"), ("summary", "summary_text")):
        parts = item.get(field)
        if isinstance(parts, list):
            texts = [
                p["text"]
                for p in parts
                if isinstance(p, Mapping)
                and p.get("type") == kind
                and isinstance(p.get("text"), str)
            ]
            if texts:
                return "\n".join(texts)
    return None


def _message(item: Mapping[str, Any], where: str, lenient: bool) -> dict[str, Any]:
    role = item.get("role")
    if role not in MESSAGE_ROLES:
        raise InvalidRequest(
            f"{where}.role must be one of {', '.join(MESSAGE_ROLES)}; got {role!r}.",
            param=f"{where}.role",
        )
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or an array.", param=where)
    found = (_part(part, f"{where}.content[{i}]", lenient) for i, part in enumerate(content))
    parts = [part for part in found if part is not None]
    if role != "user" and all(p.get("type") == "text" for p in parts):
        return {"role": role, "content": "".join(p["text"] for p in parts)}
    return {"role": role, "content": parts}


def _part(part: Any, where: str, lenient: bool) -> dict[str, Any] | None:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind in TEXT_PARTS and isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return {"type": "text", "text": part["refusal"]}
    if kind == "input_image" and isinstance(part.get("image_url"), str):
        image = {"url": part["image_url"]}
        if part.get("detail") is not None:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file" and (part.get("file_data") or part.get("file_id")):
        keys = ("file_data", "file_id", "filename")
        return {"type": "file", "file": {k: part[k] for k in keys if part.get(k) is not None}}
    if lenient:
        return None
    raise Untranslatable(
        f"{where} has type {kind!r}, which a chat-completions model cannot take here.",
        param=where,
    )


def _function_call(item: Mapping[str, Any], where: str, messages: list[dict[str, Any]]) -> str:
    call_id, name = item.get("call_id"), item.get("name")
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise InvalidRequest(f"{where} needs a call_id and a name.", param=where)
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": item.get("arguments") or ""},
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant" and isinstance(last["content"], str | None):
        last.setdefault("tool_calls", []).append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    return call_id


def _output(value: Any) -> Any:
    if isinstance(value, list):
        texts = [p.get("text") for p in value if isinstance(p, Mapping)]
        return "".join(t for t in texts if isinstance(t, str))
    return value if isinstance(value, str) else "" if value is None else str(value)
