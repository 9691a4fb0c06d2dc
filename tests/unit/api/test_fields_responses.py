"""The Responses and legacy completions fields: a wrong type or range is a 400 naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from router.api.fields import (
    COMPLETIONS_FIELDS,
    EMBEDDINGS_FIELDS,
    RESPONSES_FIELDS,
    Check,
    check_fields,
)
from router.errors import InvalidRequest

RESPONSES_WRONG: dict[str, Any] = {
    "input": 5,
    "instructions": {"text": "be brief"},
    "max_output_tokens": "100",
    "temperature": "warm",
    "top_p": [],
    "top_logprobs": 1.5,
    "max_tool_calls": True,
    "tools": {"type": "function"},
    "tool_choice": 1,
    "parallel_tool_calls": "true",
    "stream": "yes",
    "stream_options": [],
    "store": 0,
    "background": "no",
    "metadata": "k=v",
    "previous_response_id": 12,
    "reasoning": "high",
    "text": "json",
    "include": "reasoning.encrypted_content",
    "truncation": False,
    "user": ["u"],
    "service_tier": 2,
    "prompt": "p-1",
    "prompt_cache_key": 3,
    "safety_identifier": {},
    "conversation": 7,
}
RESPONSES_RIGHT: dict[str, Any] = {
    "input": [{"role": "user", "content": "hi"}],
    "instructions": "Be brief.",
    "max_output_tokens": 1,
    "temperature": 2,
    "top_p": 0.5,
    "top_logprobs": 0,
    "max_tool_calls": 3,
    "tools": [{"type": "web_search"}],
    "tool_choice": {"type": "function", "name": "f"},
    "parallel_tool_calls": True,
    "stream": False,
    "stream_options": {"include_obfuscation": False},
    "store": False,
    "background": False,
    "metadata": {"ticket": "T-1"},
    "previous_response_id": "resp_1",
    "reasoning": {"effort": "low"},
    "text": {"format": {"type": "text"}},
    "include": ["reasoning.encrypted_content"],
    "truncation": "auto",
    "user": "u-1",
    "service_tier": "auto",
    "prompt": {"id": "pmpt_1"},
    "prompt_cache_key": "k",
    "safety_identifier": "s",
    "conversation": "conv_1",
}
COMPLETIONS_WRONG: dict[str, Any] = {
    "prompt": {"text": "hi"},
    "suffix": 1,
    "max_tokens": "16",
    "temperature": "cold",
    "top_p": "1",
    "n": 1.0,
    "best_of": "2",
    "presence_penalty": [],
    "frequency_penalty": {},
    "seed": "7",
    "logprobs": True,
    "echo": "yes",
    "logit_bias": "none",
    "stop": 1,
    "stream": 1,
    "stream_options": True,
    "user": 5,
}
COMPLETIONS_RIGHT: dict[str, Any] = {
    "prompt": [[1, 2, 3]],
    "suffix": "end",
    "max_tokens": 16,
    "temperature": 0,
    "top_p": 1,
    "n": 2,
    "best_of": 2,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "seed": 7,
    "logprobs": 5,
    "echo": True,
    "logit_bias": {"50256": -100},
    "stop": "\n",
    "stream": True,
    "stream_options": {"include_usage": True},
    "user": "u-1",
}
TABLES = {"responses": RESPONSES_FIELDS, "completions": COMPLETIONS_FIELDS}
WRONG = {"responses": RESPONSES_WRONG, "completions": COMPLETIONS_WRONG}
RIGHT = {"responses": RESPONSES_RIGHT, "completions": COMPLETIONS_RIGHT}
CASES = [(table, field) for table in TABLES for field in sorted(WRONG[table])]


def test_every_checked_field_has_a_wrong_and_a_right_case() -> None:
    for table, checks in TABLES.items():
        assert set(WRONG[table]) == set(checks) == set(RIGHT[table]), table


@pytest.mark.parametrize(("table", "field"), CASES)
def test_a_wrong_type_is_a_400_naming_the_field(table: str, field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields({field: WRONG[table][field]}, TABLES[table])
    assert raised.value.status == 400
    assert raised.value.param is not None and raised.value.param.startswith(field)
    assert raised.value.code == "invalid_type"
    assert f"'{field}" in raised.value.message


OUT_OF_RANGE: list[tuple[Mapping[str, Check], str, Any]] = [
    (RESPONSES_FIELDS, "max_output_tokens", 0),
    (RESPONSES_FIELDS, "max_output_tokens", -5),
    (RESPONSES_FIELDS, "temperature", 2.5),
    (RESPONSES_FIELDS, "top_p", 1.01),
    (RESPONSES_FIELDS, "top_logprobs", 21),
    (COMPLETIONS_FIELDS, "max_tokens", -1),
    (COMPLETIONS_FIELDS, "logprobs", 6),
    (COMPLETIONS_FIELDS, "best_of", 21),
    (COMPLETIONS_FIELDS, "prompt", []),
]


@pytest.mark.parametrize(("checks", "field", "value"), OUT_OF_RANGE)
def test_a_value_out_of_range_is_a_400(checks: Mapping[str, Check], field: str, value: Any) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields({field: value}, checks)
    assert raised.value.code == "invalid_value"
    assert raised.value.param == field


@pytest.mark.parametrize(
    ("checks", "body", "param"),
    [
        (RESPONSES_FIELDS, {"input": ["hi"]}, "input[0]"),
        (RESPONSES_FIELDS, {"include": ["a", 1]}, "include[1]"),
        (RESPONSES_FIELDS, {"tools": [{"type": "function"}, "f"]}, "tools[1]"),
        (COMPLETIONS_FIELDS, {"prompt": ["a", None]}, "prompt[1]"),
        (COMPLETIONS_FIELDS, {"prompt": [[1, "two"]]}, "prompt[0]"),
        (COMPLETIONS_FIELDS, {"prompt": [[1, -2]]}, "prompt[0][1]"),
        (COMPLETIONS_FIELDS, {"prompt": [5, -1]}, "prompt[1]"),
        (COMPLETIONS_FIELDS, {"prompt": [1.5]}, "prompt[0]"),
        (EMBEDDINGS_FIELDS, {"encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_a_wrong_item_is_named_by_its_index(
    checks: Mapping[str, Check], body: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_fields(body, checks)
    assert raised.value.param == param


@pytest.mark.parametrize("table", sorted(TABLES))
def test_right_values_and_nulls_pass(table: str) -> None:
    check_fields(RIGHT[table], TABLES[table])
    check_fields(dict.fromkeys(RIGHT[table]), TABLES[table])
    plain = "input" if table == "responses" else "prompt"
    check_fields({plain: "a plain string"}, TABLES[table])
    check_fields({"not_ours": object()}, TABLES[table])  # unknown fields are the upstream's
