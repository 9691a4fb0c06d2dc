"""Tool calls and structured output over HTTP, checked against the request's own schemas."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from tests.unit.sim.conftest import ask

WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "hourly": {"type": "boolean"},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
SEARCH = {
    "type": "object",
    "properties": {
        "query": {"type": "string"},
        "filters": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "value": {"type": ["number", "null"]}},
                "required": ["field", "value"],
            },
        },
    },
    "required": ["query", "filters"],
}
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "search", "parameters": SEARCH}},
]


@pytest.mark.parametrize("model", ["sim-small", "sim-large-reasoner", "sim-think"])
def test_tool_round_trip(client: openai.OpenAI, model: str) -> None:
    first = client.chat.completions.create(model=model, messages=ask(), tools=TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER)
    assert first.usage is not None and first.usage.completion_tokens > 0
    follow_up: list[Any] = [
        *ask(),
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
    ]
    second = client.chat.completions.create(model=model, messages=follow_up, tools=TOOLS)
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.tool_calls is None and second.choices[0].message.content


def test_named_tool_and_none(client: openai.OpenAI) -> None:
    named = client.chat.completions.create(
        model="sim-small",
        messages=ask(),
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "search"}},
    )
    calls = named.choices[0].message.tool_calls
    assert calls is not None and isinstance(calls[0], ChatCompletionMessageFunctionToolCall)
    assert calls[0].function.name == "search"
    jsonschema.validate(json.loads(calls[0].function.arguments), SEARCH)
    plain = client.chat.completions.create(
        model="sim-small", messages=ask(), tools=TOOLS, tool_choice="none"
    )
    assert plain.choices[0].message.tool_calls is None
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="sim-small",
            messages=ask(),
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "missing"}},
        )
    assert caught.value.param == "tool_choice"


def test_streamed_tool_call_matches(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(
        model="sim-mini-reasoner", messages=ask(), tools=TOOLS, tool_choice="required"
    )
    calls_made = whole.choices[0].message.tool_calls
    assert calls_made is not None
    expected = calls_made[0]
    assert isinstance(expected, ChatCompletionMessageFunctionToolCall)
    stream = client.chat.completions.create(
        model="sim-mini-reasoner", messages=ask(), tools=TOOLS, tool_choice="required", stream=True
    )
    calls: list[Any] = []
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            calls.append(delta)
    opening, fragments = calls[0], calls[1:]
    assert opening.index == 0 and opening.id == expected.id and opening.type == "function"
    assert opening.function is not None and opening.function.name == "get_weather"
    assert all(
        f.id is None and f.function is not None and f.function.name is None for f in fragments
    )
    arguments = "".join(f.function.arguments for f in fragments if f.function)
    assert len(fragments) >= 1 and arguments == expected.function.arguments
    assert finish == "tool_calls"


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "author": {"$ref": "#/$defs/person"},
        "status": {"anyOf": [{"type": "null"}, {"const": "final"}]},
        "when": {"type": "string", "format": "date-time"},
    },
    "required": ["title", "score", "tags", "author", "status", "when"],
    "additionalProperties": False,
    "$defs": {
        "person": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}},
            "required": ["name", "age"],
            "additionalProperties": False,
        }
    },
}


@pytest.mark.parametrize("model", ["sim-small", "sim-large-reasoner"])
def test_json_schema_output_is_valid(client: openai.OpenAI, model: str) -> None:
    response = client.chat.completions.create(
        model=model,
        messages=ask(),
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "doc", "schema": SCHEMA, "strict": True},
        },
    )
    document = json.loads(response.choices[0].message.content or "")
    jsonschema.validate(document, SCHEMA)
    assert len(document["tags"]) == 1 and document["author"]["age"] >= 18


def test_json_object_output(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="sim-small", messages=ask(), response_format={"type": "json_object"}
    )
    document = json.loads(response.choices[0].message.content or "")
    assert isinstance(document, dict) and document["answer"]
