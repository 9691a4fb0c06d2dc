"""Function tools, `tool_choice` and `text` (format and verbosity) in chat-completions terms (pure).

Only function tools have a chat equivalent: a built-in tool (web search, file search, computer
use, code interpreter, MCP, ...) or a choice of one is refused naming it (`tools[1]`), unless
the caller asks for the lenient view, which skips it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.errors import InvalidRequest, UnsupportedParameter


class Untranslatable(UnsupportedParameter):
    """An item or field of a Responses request that a chat-completions upstream cannot take."""


def chat_tools(value: Any, lenient: bool) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("'tools' must be an array.", param="tools")
    tools = []
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if kind == "function" and isinstance(tool.get("name"), str):
            keys = ("name", "description", "parameters", "strict")
            function = {k: tool[k] for k in keys if tool.get(k) is not None}
            tools.append({"type": "function", "function": function})
        elif not lenient:
            raise Untranslatable(
                f"{where} is a built-in tool of type {kind!r}; the model this request went to "
                "speaks only chat completions, which has function tools only. Name a model "
                "that serves the Responses API, or drop the tool.",
                param=where,
            )
    return tools


def chat_tool_choice(value: Any, lenient: bool) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if isinstance(value, Mapping) and value.get("type") == "function":
        return {"type": "function", "function": {"name": value.get("name")}}
    if lenient:
        return None
    raise Untranslatable(
        f"tool_choice {value!r} cannot be sent to a chat-completions model (it takes 'auto', "
        "'none', 'required' or one function).",
        param="tool_choice",
    )


def write_text_format(value: Any, out: dict[str, Any], lenient: bool) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidRequest("'text' must be an object.", param="text")
    if value.get("verbosity") is not None:
        out["verbosity"] = value["verbosity"]
    fmt = value.get("format")
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if fmt is None or kind == "text":
        return
    if kind == "json_object":
        out["response_format"] = {"type": "json_object"}
        return
    if kind == "json_schema" and isinstance(fmt, Mapping):
        keys = ("name", "schema", "strict", "description")
        spec = {k: fmt[k] for k in keys if fmt.get(k) is not None}
        out["response_format"] = {"type": "json_schema", "json_schema": spec}
        return
    if not lenient:
        raise InvalidRequest(
            "text.format.type must be 'text', 'json_object' or 'json_schema'.", param="text.format"
        )
