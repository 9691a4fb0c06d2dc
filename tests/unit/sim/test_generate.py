"""The pure core: request reading, token draws, layout, truncation, determinism, categories."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import jsonschema
import pytest

from router.errors import InvalidRequest
from router.sim.catalog import EFFORT_SCALE, SimModel, default_catalog
from router.sim.category import categorize
from router.sim.generate import Completion, complete
from router.sim.request import parse_chat
from router.sim.schemas import instance

MODELS = {model.name: model for model in default_catalog()}


def run(model: str, seed: int = 1, **body: Any) -> Completion:
    request = {"model": model, "messages": [{"role": "user", "content": "Who wrote Hamlet?"}]}
    request.update(body)
    return complete(parse_chat(request, MODELS[model], seed), seed)


def test_effort_scales_one_draw_exactly() -> None:
    low, high = (
        run("sim-large-reasoner", reasoning_effort=e).usage.reasoning_tokens
        for e in ("low", "high")
    )
    assert high / low == pytest.approx(EFFORT_SCALE["high"] / EFFORT_SCALE["low"], rel=0.02)


def test_seed_and_content_decide_everything() -> None:
    first, again = run("sim-think", n=2), run("sim-think", n=2)
    assert first == again
    other_seed = run("sim-think", seed=2, n=2)
    assert other_seed.id != first.id and other_seed.choices != first.choices
    assert first.choices[0] != first.choices[1]


def test_usage_adds_up_over_choices() -> None:
    completion = run("sim-mini-reasoner", n=4)
    usage = completion.usage
    assert usage.completion_tokens == sum(c.completion_tokens for c in completion.choices)
    assert usage.reasoning_tokens == sum(c.reasoning_tokens for c in completion.choices)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


@pytest.mark.parametrize(
    ("model", "opening"),
    [("sim-think", "<think>\n"), ("sim-harmony", "<|channel|>analysis<|message|>")],
)
def test_truncated_inside_inline_reasoning(model: str, opening: str) -> None:
    choice = run(model, max_tokens=8).choices[0]
    content = choice.text("content") or ""
    assert choice.finish_reason == "length" and choice.completion_tokens == 8
    assert content.startswith(opening)
    assert "</think>" not in content and "<|end|>" not in content
    assert 0 < choice.reasoning_tokens < 8


def test_reasoning_field_truncation_keeps_count() -> None:
    choice = run("sim-large-reasoner", max_completion_tokens=5).choices[0]
    assert choice.text("reasoning") and choice.text("content") is None
    assert (choice.reasoning_tokens, choice.completion_tokens) == (5, 5)


def test_context_window_is_enforced() -> None:
    tiny = dataclasses.replace(MODELS["sim-small"], context_window=10)
    body = {"model": "sim-small", "messages": [{"role": "user", "content": "word " * 40}]}
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(body, tiny, 0)
    assert caught.value.code == "context_length_exceeded"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"n": 0}, "n"),
        ({"top_logprobs": 2}, "logprobs"),
        ({"max_tokens": -1}, "max_tokens"),
        ({"reasoning_effort": 3}, "reasoning_effort"),
        ({"reasoning": "high"}, "reasoning"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"tools": [{"type": "function"}]}, "tools[0]"),
        ({"sim": {"category": "poetry"}}, "sim.category"),
        ({"sim": {"fault": {"status": "bad"}}}, "sim.fault.status"),
    ],
)
def test_bad_requests_name_the_parameter(body: dict[str, Any], param: str) -> None:
    request: dict[str, Any] = {"model": "sim-large-reasoner", "messages": [{"role": "user"}]}
    request.update(body)
    with pytest.raises(InvalidRequest) as caught:
        parse_chat(request, MODELS["sim-large-reasoner"], 0)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("How much is 1+1?", "math"),
        ("Solve for x: 3x = 12", "math"),
        ("A riddle: four people cross a bridge at night", "logic"),
        ("What is the capital of Australia?", "knowledge"),
        ("Write me a haiku about autumn", "other"),
        # A long message is read at its ends: the question closing a document counts, a word in
        # its middle does not.
        ("lorem ipsum " * 2000 + "What is the capital of Australia?", "knowledge"),
        ("lorem ipsum " * 2000 + "a riddle " + "lorem ipsum " * 2000, "other"),
    ],
)
def test_categorize(text: str, category: str) -> None:
    assert categorize(text) == category


SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"a": {"type": "integer", "exclusiveMinimum": 5}}},
    {"type": "object", "required": ["a"], "properties": {"a": {"type": ["null", "integer"]}}},
    {"type": "array", "minItems": 3, "items": {"type": "string", "format": "uuid"}},
    {"type": "array", "prefixItems": [{"type": "boolean"}, {"const": 3}], "maxItems": 2},
    {
        "allOf": [
            {"required": ["x"], "properties": {"x": {"type": "number", "maximum": -4}}},
            {"required": ["y"], "properties": {"y": {"type": "string", "minLength": 9}}},
        ]
    },
    {"oneOf": [{"type": "null"}, {"type": "string", "maxLength": 3}]},
    {
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {
                "type": "object",
                "required": ["kids"],
                "properties": {
                    "kids": {
                        "type": "array",
                        "maxItems": 0,
                        "items": {"$ref": "#/definitions/node"},
                    }
                },
            }
        },
    },
    {"type": "string", "format": "email"},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_instances_are_valid(schema: dict[str, Any]) -> None:
    for seed in range(5):
        value = instance(schema, random.Random(seed))
        jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


def test_non_reasoning_sim_ignores_nothing() -> None:
    plain: SimModel = MODELS["sim-plain-usage"]
    body = {"model": plain.name, "messages": [{"role": "user", "content": "hi"}]}
    assert parse_chat({**body, "reasoning_effort": "none"}, plain, 0).effort is None
    with pytest.raises(InvalidRequest):
        parse_chat({**body, "reasoning": {"effort": "high"}}, plain, 0)
