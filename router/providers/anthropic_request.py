"""OpenAI chat messages and tools in Anthropic Messages API form (pure).

* `system` and `developer` messages become the top-level `system` (a string, or text blocks
  when a part carries `cache_control`, which is kept);
* user content parts: text, and images (`image_url` with a `data:` URL becomes a base64 source,
  any other URL a `url` source); other part types are refused;
* assistant turns: earlier thinking first (from `reasoning_details` entries in Anthropic's format,
  or LiteLLM-style `thinking_blocks`, passed back untouched, signatures included, as Anthropic
  requires when a tool loop continues), then the text, then `tool_use` blocks for `tool_calls`;
  plain reasoning text without a signature cannot be sent back and is left out;
* `tool` messages become `tool_result` blocks in a user turn;
* consecutive turns of one role are merged, and empty turns left out (Anthropic refuses empty
  content); a turn that is a single plain text block is sent as a string;
* tool call arguments must be a JSON object, and system content text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from router.errors import InvalidRequest, UnsupportedParameter

ANTHROPIC_FORMAT: Final = "anthropic-claude-v1"
"""`reasoning_details[].format` of Anthropic thinking (OpenRouter's name for it)."""

_SYSTEM_ROLES: Final = ("system", "developer")


def _text_block(text: str, part: Mapping[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": text}
    if part is not None and part.get("cache_control") is not None:
        block["cache_control"] = part["cache_control"]
    return block


def _image_block(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequest(f"{where}.image_url.url must be a URL.", param=f"{where}.image_url")
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[len("data:") :].split(";", 1)[0]
        source = {"type": "base64", "media_type": media_type, "data": data}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def content_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    """A message's `content` (a string or parts) as Anthropic content blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [_text_block(content)] if content else []
    if not isinstance(content, list):
        raise InvalidRequest(f"{where} must be a string or an array of parts.", param=where)
    blocks = []
    for index, part in enumerate(content):
        at = f"{where}[{index}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append(_text_block(part["text"], part))
        elif kind == "image_url":
            blocks.append(_image_block(part, at))
        else:
            raise UnsupportedParameter(
                f"{at}: content parts of type {kind!r} cannot be sent to Anthropic "
                "(text and image_url can).",
                param=at,
            )
    return blocks


def _system_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    """A system or developer message's text blocks: Anthropic's `system` takes text only."""
    blocks = content_blocks(content, where)
    for index, block in enumerate(blocks):
        if block["type"] != "text":
            raise UnsupportedParameter(
                f"{where}: a system or developer message can only hold text for Anthropic; "
                "move the image into a user message.",
                param=f"{where}[{index}]" if isinstance(content, list) else where,
            )
    return blocks


def thinking_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    details = message.get("reasoning_details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, Mapping) or detail.get("format") not in (None, ANTHROPIC_FORMAT):
            continue
        if detail.get("type") == "reasoning.text" and detail.get("signature"):
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": detail.get("text") or "",
                    "signature": detail["signature"],
                }
            )
        elif detail.get("type") == "reasoning.encrypted" and detail.get("data"):
            blocks.append({"type": "redacted_thinking", "data": detail["data"]})
    kept = message.get("thinking_blocks")
    for block in kept if isinstance(kept, list) else []:
        if isinstance(block, Mapping) and block.get("type") in ("thinking", "redacted_thinking"):
            blocks.append(dict(block))
    return blocks


def _tool_uses(calls: Any, where: str) -> list[dict[str, Any]]:
    blocks = []
    for index, call in enumerate(calls if isinstance(calls, list) else []):
        at = f"{where}.tool_calls[{index}]"
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            raise InvalidRequest(f"{at} must be a function call.", param=at)
        try:
            arguments = orjson.loads(function.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            arguments = None
        if not isinstance(arguments, dict):  # Anthropic's `tool_use.input` is an object
            raise InvalidRequest(
                f"{at}.function.arguments must be a JSON object.", param=f"{at}.function"
            )
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": arguments,
            }
        )
    return blocks


def _turn(message: Mapping[str, Any], where: str) -> tuple[str, list[dict[str, Any]]]:
    role = message.get("role")
    if role == "assistant":
        blocks = thinking_blocks(message)
        blocks += content_blocks(message.get("content"), f"{where}.content")
        blocks += _tool_uses(message.get("tool_calls"), where)
        return "assistant", blocks
    if role == "tool":
        result = content_blocks(message.get("content"), f"{where}.content")
        call = message.get("tool_call_id")
        return "user", [{"type": "tool_result", "tool_use_id": call, "content": result}]
    if role == "user":
        return "user", content_blocks(message.get("content"), f"{where}.content")
    raise InvalidRequest(f"{where}.role {role!r} cannot be sent to Anthropic.", param=where)


def _simplify(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if len(blocks) == 1 and blocks[0].get("type") == "text" and set(blocks[0]) == {"type", "text"}:
        text: str = blocks[0]["text"]
        return text
    return blocks


def to_anthropic(
    messages: Sequence[Any],
) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """(system, messages) for the Messages API."""
    system: list[dict[str, Any]] = []
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.get("role") in _SYSTEM_ROLES:
            system += _system_blocks(message.get("content"), f"{where}.content")
            continue
        role, blocks = _turn(message, where)
        if not blocks:
            continue  # an empty turn: Anthropic refuses empty content, and it says nothing
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    if not turns:
        raise InvalidRequest(
            "messages: nothing to send to Anthropic (every user and assistant message is "
            "empty); give the question as a non-empty user message.",
            param="messages",
        )
    out = [{"role": role, "content": _simplify(blocks)} for role, blocks in turns]
    if not system:
        return None, out
    if any("cache_control" in block for block in system):
        return system, out
    return "\n\n".join(block["text"] for block in system), out


def loop_without_thinking(messages: Sequence[Any]) -> bool:
    """The request continues a tool loop (it ends with tool results) whose assistant turn
    carries no thinking blocks. With thinking on, Anthropic refuses it: the last assistant
    turn of a tool loop must start with its thinking, sent back as it came."""
    tail = len(messages)
    while (
        tail
        and isinstance(messages[tail - 1], Mapping)
        and messages[tail - 1].get("role") == "tool"
    ):
        tail -= 1
    if tail == len(messages) or tail == 0:
        return False
    last = messages[tail - 1]
    return (
        isinstance(last, Mapping)
        and last.get("role") == "assistant"
        and bool(last.get("tool_calls"))
        and not thinking_blocks(last)
    )


def to_anthropic_tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(tools if isinstance(tools, list) else []):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not function:
            raise UnsupportedParameter(
                f"tools[{index}]: only function tools can be sent to Anthropic.",
                param=f"tools[{index}]",
            )
        entry: dict[str, Any] = {
            "name": function.get("name"),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        out.append(entry)
    return out


def to_anthropic_tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    """`tool_choice` (and `parallel_tool_calls: false`) in Anthropic's form."""
    if choice is None and parallel is not False:
        return None
    if choice is None or choice == "auto":
        out: dict[str, Any] = {"type": "auto"}
    elif choice == "none":
        out = {"type": "none"}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        out = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise InvalidRequest(
            "tool_choice must be 'none', 'auto', 'required' or name a function.",
            param="tool_choice",
        )
    if parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out
