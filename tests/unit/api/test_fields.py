"""The common OpenAI fields: each wrong type or out-of-range value is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from router.api.body import too_deep
from router.api.fields import (
    CHAT_FIELDS,
    EMBEDDINGS_FIELDS,
    check_embedding_input,
    check_fields,
    check_message_fields,
)
from router.errors import InvalidRequest

# One value of the wrong kind for every checked field, and one that is right.
WRONG: dict[str, Any] = {
    "max_tokens": "10",
    "max_completion_tokens": 1.5,
    "temperature": "hot",
    "top_p": True,
    "n": [],
    "presence_penalty": {},
    "frequency_penalty": "0",
    "seed": 1.0,
    "logprobs": 1,
    "top_logprobs": False,
    "logit_bias": [],
    "stop": 4,
    "user": 7,
    "stream_options": "usage",
    "tools": {},
    "tool_choice": 3,
    "parallel_tool_calls": "yes",
    "response_format": "json",
    "metadata": [],
    "store": "no",
    "service_tier": 1,
    "modalities": {},
    "prediction": "x",
    "audio": 1,
    "web_search_options": True,
}
RIGHT: dict[str, Any] = {
    "max_tokens": 10,
    "max_completion_tokens": 10,
    "temperature": 0.7,
    "top_p": 1,
    "n": 1,
    "presence_penalty": -2,
    "frequency_penalty": 2.0,
    "seed": -(2**63),
    "logprobs": True,
    "top_logprobs": 20,
    "logit_bias": {"50256": -100},
    "stop": ["\n", "END"],
    "user": "u-1",
    "stream_options": {"include_usage": True},
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "tool_choice": "auto",
    "parallel_tool_calls": False,
    "response_format": {"type": "json_object"},
    "metadata": {"k": "v"},
    "store": False,
    "service_tier": "auto",
    "modalities": ["text"],
    "prediction": {"type": "content", "content": "x"},
    "audio": {"voice": "alloy"},
    "web_search_options": {},
}
OUT_OF_RANGE: list[tuple[str, Any]] = [
    ("max_tokens", 0),
    ("max_tokens", 2**31),
    ("temperature", 2.01),
    ("temperature", float("inf")),
    ("top_p", -0.1),
    ("n", 129),
    ("seed", 2**63),
    ("top_logprobs", 21),
    ("presence_penalty", 2.5),
    ("logit_bias", {"1": 101}),
]


def test_every_checked_field_has_a_wrong_and_a_right_case() -> None:
    assert set(WRONG) == set(CHAT_FIELDS) == set(RIGHT)


@pytest.mark.parametrize("field", sorted(WRONG))
def test_a_wrong_type_is_a_400_naming_the_field(field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields({field: WRONG[field]}, CHAT_FIELDS)
    assert raised.value.param is not None and raised.value.param.startswith(field)
    assert raised.value.code == "invalid_type"


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE)
def test_a_number_out_of_range_is_a_400(field: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields({field: value}, CHAT_FIELDS)
    assert raised.value.code == "invalid_value"
    assert "out of range" in raised.value.message


def test_right_values_and_nulls_pass() -> None:
    check_fields(RIGHT, CHAT_FIELDS)
    check_fields(dict.fromkeys(RIGHT), CHAT_FIELDS)
    check_fields({"not_ours": object()}, CHAT_FIELDS)  # unknown fields are the upstream's


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "user", "content": 5}, "messages[0].content"),
        ({"role": "user", "content": [[]]}, "messages[0].content[0]"),
        ({"role": "user", "content": "x", "name": 1}, "messages[0].name"),
        ({"role": "assistant", "tool_calls": [1]}, "messages[0].tool_calls[0]"),
        ({"role": "tool", "content": "x", "tool_call_id": 2}, "messages[0].tool_call_id"),
    ],
)
def test_message_fields_of_the_wrong_type(message: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_message_fields([message])
    assert raised.value.param == param


def test_message_fields_that_are_right() -> None:
    check_message_fields(
        [
            {"role": "user", "content": [{"type": "text", "text": "hi"}], "name": "a"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]},
            {"role": "tool", "content": "42", "tool_call_id": "c"},
        ]
    )


@pytest.mark.parametrize("value", ["a", ["a", "b"], [1, 2], [[1, 2], [3]]])
def test_embedding_inputs_that_are_right(value: Any) -> None:
    check_embedding_input(value)


@pytest.mark.parametrize("value", [1, None, {}, [], [None], [1.5], [[1, "a"]], [True]])
def test_embedding_inputs_that_are_wrong(value: Any) -> None:
    with pytest.raises(InvalidRequest):
        check_embedding_input(value)


def test_embedding_fields() -> None:
    check_fields({"dimensions": 256, "encoding_format": "float"}, EMBEDDINGS_FIELDS)
    with pytest.raises(InvalidRequest):
        check_fields({"dimensions": 0}, EMBEDDINGS_FIELDS)


def test_depth() -> None:
    value: Any = 1
    for _ in range(10):
        value = {"a": [value]}  # 20 containers deep
    assert too_deep(value, 19)
    assert not too_deep(value, 20)
    assert not too_deep({"a": 1, "b": [1, 2]}, 2)
    wide = {"messages": [{"role": "user", "content": [{"type": "text"}]}] * 1000}
    assert not too_deep(wide, 5) and too_deep(wide, 4)  # many siblings are not depth
    assert not too_deep("text", 1) and not too_deep([], 1)
