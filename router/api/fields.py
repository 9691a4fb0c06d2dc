"""Types and ranges of the common OpenAI request fields, checked before anything is forwarded.

The proxy forwards fields it does not act on, but a wrong type or an out-of-range number is the
client's mistake whichever upstream would have seen it: it gets the 400 OpenAI gives, naming the
field, instead of a paid upstream call that fails (or, on some hosts, a 500). Ranges are OpenAI's
(the widest among providers); `null` means "not set" everywhere, as in OpenAI's API. Fields not
listed here pass through unchecked. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from router.api.body import json_type
from router.errors import InvalidRequest

INT32 = 2**31 - 1
INT64 = 2**63 - 1

Check = Callable[[str, Any], None]


def _wrong_type(name: str, expected: str, value: Any) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid type for '{name}': expected {expected}, got {json_type(value)}.",
        param=name,
        code="invalid_type",
    )


def integer(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> None:
        whole_float = isinstance(value, float) and value.is_integer()
        if whole_float and not low <= value <= high:  # too large for JSON's 64-bit integers
            raise InvalidRequest(
                f"Invalid '{name}': {value:g} is out of range; expected {low} to {high}.",
                param=name,
                code="invalid_value",
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(name, "an integer", value)
        if not low <= value <= high:
            raise InvalidRequest(
                f"Invalid '{name}': {value} is out of range; expected {low} to {high}.",
                param=name,
                code="invalid_value",
            )

    return check


def number(low: float, high: float) -> Check:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(name, "a number", value)
        if not (math.isfinite(value) and low <= value <= high):
            raise InvalidRequest(
                f"Invalid '{name}': {value} is out of range; expected {low:g} to {high:g}.",
                param=name,
                code="invalid_value",
            )

    return check


def of_type(kind: type, expected: str) -> Check:
    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise _wrong_type(name, expected, value)

    return check


def one_of(*allowed: str) -> Check:
    def check(name: str, value: Any) -> None:
        if value not in allowed:
            raise InvalidRequest(
                f"Invalid value for '{name}': {value!r}; it must be one of "
                f"{', '.join(repr(a) for a in allowed)}.",
                param=name,
                code="invalid_value",
            )

    return check


def string_or_strings(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _wrong_type(name, "a string or an array of strings", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong_type(f"{name}[{i}]", "a string", item)


def string_or_object(name: str, value: Any) -> None:
    if not isinstance(value, str | dict):
        raise _wrong_type(name, "a string or an object", value)


def array_of_objects(name: str, value: Any) -> None:
    if not isinstance(value, list):
        raise _wrong_type(name, "an array of objects", value)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _wrong_type(f"{name}[{i}]", "an object", item)


def strings(name: str, value: Any) -> None:
    if not isinstance(value, list):
        raise _wrong_type(name, "an array of strings", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong_type(f"{name}[{i}]", "a string", item)


def string_or_objects(name: str, value: Any) -> None:
    """A string, or an array of objects (Responses `input` items)."""
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _wrong_type(name, "a string or an array of items", value)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _wrong_type(f"{name}[{i}]", "an object", item)


def text_or_tokens(name: str, value: Any) -> None:
    """A string, an array of strings, an array of token ids, or an array of such arrays."""
    if isinstance(value, str):
        return
    expected = "a string, an array of strings or an array of token arrays"
    if not isinstance(value, list):
        raise _wrong_type(name, expected, value)
    if not value:
        raise InvalidRequest(
            f"Invalid '{name}': the array is empty.", param=name, code="invalid_value"
        )
    for i, item in enumerate(value):
        if isinstance(item, str):
            continue
        if _token_id(item):
            continue
        if isinstance(item, list) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in item
        ):
            for j, token in enumerate(item):
                if not _token_id(token):
                    raise _bad_token(f"{name}[{i}][{j}]", token)
            continue
        if isinstance(item, int | float) and not isinstance(item, bool):
            raise _bad_token(f"{name}[{i}]", item)
        raise _wrong_type(f"{name}[{i}]", "a string or an array of token ids", item)


def _token_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _bad_token(name: str, value: Any) -> InvalidRequest:
    return InvalidRequest(
        f"Invalid '{name}': a token id is a whole number >= 0, got {value!r}.",
        param=name,
        code="invalid_value",
    )


def token_ids(value: Any) -> int:
    """How many token ids a `text_or_tokens` value gives as ids (its strings are not counted):
    an array of ids, or the arrays of ids in an array."""
    if not isinstance(value, list):
        return 0
    ids = sum(1 for item in value if isinstance(item, int) and not isinstance(item, bool))
    return ids + sum(len(item) for item in value if isinstance(item, list))


def bias_map(name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise _wrong_type(name, "an object of token ids to numbers", value)
    check = number(-100, 100)
    for key, bias in value.items():
        check(f"{name}.{key}", bias)


OBJECT = of_type(dict, "an object")
BOOLEAN = of_type(bool, "a boolean")
STRING = of_type(str, "a string")


def stream_options(name: str, value: Any) -> None:
    """An object whose `include_usage` (and `include_obfuscation`), when given, are booleans."""
    OBJECT(name, value)
    for flag in ("include_usage", "include_obfuscation"):
        if value.get(flag) is not None:
            BOOLEAN(f"{name}.{flag}", value[flag])


CHAT_FIELDS: Mapping[str, Check] = {
    "max_tokens": integer(1, INT32),
    "max_completion_tokens": integer(1, INT32),
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "n": integer(1, 128),
    "presence_penalty": number(-2, 2),
    "frequency_penalty": number(-2, 2),
    "seed": integer(-INT64 - 1, INT64),
    "logprobs": BOOLEAN,
    "top_logprobs": integer(0, 20),
    "logit_bias": bias_map,
    "stop": string_or_strings,
    "user": STRING,
    "stream_options": stream_options,
    "tools": array_of_objects,
    "tool_choice": string_or_object,
    "parallel_tool_calls": BOOLEAN,
    "response_format": OBJECT,
    "metadata": OBJECT,
    "store": BOOLEAN,
    "service_tier": STRING,
    "modalities": string_or_strings,
    "prediction": OBJECT,
    "audio": OBJECT,
    "web_search_options": OBJECT,
}

# The Responses API's own names (`max_output_tokens`, `input`, `instructions`, ...). `input` and
# `instructions` take a string or an array of items (what the items say is the translation's
# business, router.responses.request); `stream` is read before (router.api.body.stream_flag).
RESPONSES_FIELDS: Mapping[str, Check] = {
    "input": string_or_objects,
    "instructions": string_or_objects,
    "max_output_tokens": integer(1, INT32),
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "top_logprobs": integer(0, 20),
    "max_tool_calls": integer(1, INT32),
    "tools": array_of_objects,
    "tool_choice": string_or_object,
    "parallel_tool_calls": BOOLEAN,
    "stream": BOOLEAN,
    "stream_options": stream_options,
    "store": BOOLEAN,
    "background": BOOLEAN,
    "metadata": OBJECT,
    "previous_response_id": STRING,
    "reasoning": OBJECT,
    "text": OBJECT,
    "include": strings,
    "truncation": STRING,
    "user": STRING,
    "service_tier": STRING,
    "prompt": OBJECT,
    "prompt_cache_key": STRING,
    "safety_identifier": STRING,
    "conversation": string_or_object,
}

# Legacy completions: `prompt` as OpenAI takes it; `logprobs` is a count here, not a flag.
COMPLETIONS_FIELDS: Mapping[str, Check] = {
    "prompt": text_or_tokens,
    "suffix": STRING,
    "max_tokens": integer(0, INT32),  # 0 with echo and logprobs scores a prompt
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "n": integer(1, 128),
    "best_of": integer(1, 20),
    "presence_penalty": number(-2, 2),
    "frequency_penalty": number(-2, 2),
    "seed": integer(-INT64 - 1, INT64),
    "logprobs": integer(0, 5),
    "echo": BOOLEAN,
    "logit_bias": bias_map,
    "stop": string_or_strings,
    "stream": BOOLEAN,
    "stream_options": stream_options,
    "user": STRING,
}

EMBEDDINGS_FIELDS: Mapping[str, Check] = {
    "encoding_format": one_of("float", "base64"),
    "dimensions": integer(1, INT32),
    "user": STRING,
}


def check_fields(body: Mapping[str, Any], checks: Mapping[str, Check]) -> None:
    """Raise InvalidRequest for the first listed field of the wrong type or out of range."""
    for name, check in checks.items():
        value = body.get(name)
        if value is not None:
            check(name, value)


def check_streaming_only(body: Mapping[str, Any], stream: bool) -> None:
    """`stream_options` belongs to a stream: OpenAI refuses it on a request that does not
    stream, so the proxy does too, whatever the upstream would do with it."""
    if not stream and body.get("stream_options") is not None:
        raise InvalidRequest(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled: "
            "set 'stream': true, or leave 'stream_options' out.",
            param="stream_options",
            code="invalid_value",
        )


CONTENT_REQUIRED = frozenset({"system", "developer", "user", "tool"})


def check_message_fields(messages: list[dict[str, Any]]) -> None:
    """Each message's `content` (a string, an array of parts, or null; required, as OpenAI
    requires it, of every role but `assistant`, which may carry tool calls instead) and `name`."""
    for i, message in enumerate(messages):
        content = message.get("content")
        if content is None and message.get("role") in CONTENT_REQUIRED:
            raise InvalidRequest(
                f"Missing required parameter: 'messages[{i}].content' (a {message['role']} "
                "message needs a string or an array of content parts).",
                param=f"messages[{i}].content",
                code="missing_required_parameter",
            )
        if content is not None and not isinstance(content, str):
            if not isinstance(content, list):
                raise _wrong_type(
                    f"messages[{i}].content", "a string or an array of content parts", content
                )
            for j, part in enumerate(content):
                if not isinstance(part, dict):
                    raise _wrong_type(f"messages[{i}].content[{j}]", "an object", part)
        name = message.get("name")
        if name is not None and not isinstance(name, str):
            raise _wrong_type(f"messages[{i}].name", "a string", name)
        calls = message.get("tool_calls")
        if calls is not None:
            array_of_objects(f"messages[{i}].tool_calls", calls)
        call_id = message.get("tool_call_id")
        if call_id is not None and not isinstance(call_id, str):
            raise _wrong_type(f"messages[{i}].tool_call_id", "a string", call_id)
        if call_id is None and message.get("role") == "tool":
            raise InvalidRequest(
                f"Missing required parameter: 'messages[{i}].tool_call_id' (a tool message "
                "answers the call with that id).",
                param=f"messages[{i}].tool_call_id",
                code="missing_required_parameter",
            )


def check_tool_choice(body: Mapping[str, Any]) -> None:
    """OpenAI takes `tool_choice` only beside `tools` (`none` and `auto` aside, which ask for
    no call), and refuses a forced choice among no tools."""
    choice = body.get("tool_choice")
    if choice is None or choice in ("none", "auto") or body.get("tools"):
        return
    raise InvalidRequest(
        "Invalid value for 'tool_choice': it asks for a tool call, but no 'tools' are given; "
        "add the tools or leave 'tool_choice' out.",
        param="tool_choice",
        code="invalid_value",
    )


EMBEDDING_INPUTS = 2048  # OpenAI's limit on the inputs of one embeddings request


def check_embedding_input(value: Any) -> None:
    """A string, an array of strings, an array of token ids, or an array of such arrays; as
    OpenAI documents it, no input is empty and one request embeds at most 2,048 inputs."""
    text_or_tokens("input", value)
    if value == "":
        raise InvalidRequest(
            "Invalid 'input': the string is empty; give the text to embed.",
            param="input",
            code="invalid_value",
        )
    if not isinstance(value, list) or not any(isinstance(item, str | list) for item in value):
        return  # a string, or one input given as token ids
    if len(value) > EMBEDDING_INPUTS:
        raise InvalidRequest(
            f"Invalid 'input': {len(value)} inputs, at most {EMBEDDING_INPUTS} per request; "
            "split them over several requests.",
            param="input",
            code="invalid_value",
        )
    for i, item in enumerate(value):
        if item == "" or item == []:
            raise InvalidRequest(
                f"Invalid 'input[{i}]': it is empty; give the text or token ids to embed.",
                param=f"input[{i}]",
                code="invalid_value",
            )
