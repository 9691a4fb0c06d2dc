"""The adapter contract: every registered adapter imports, has the protocol's methods, and has
decided on every canonical request field, and its decisions hold when a request carries it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, get_args

import pytest
from openai.types.chat import completion_create_params

from router.config.load import ModelSpec
from router.config.schema import Dialect
from router.errors import UnsupportedParameter
from router.providers.base import CANONICAL_FIELDS, REASONING_CONTROLS, Rule
from router.providers.registry import DIALECTS, adapter_for, default_usage
from router.reasoning.intent import normalize_reasoning
from tests.unit.providers.catalog import catalog

# A value for every canonical field that is not its "not set" default. A new field fails
# `test_every_field_has_a_sample` until it gets one here, and then every adapter is checked.
SAMPLES: dict[str, Any] = {
    "stream_options": {"include_usage": False},
    "max_tokens": 900,
    "max_completion_tokens": 900,
    "temperature": 0.3,
    "top_p": 0.5,
    "n": 2,
    "stop": ["END"],
    "presence_penalty": 0.4,
    "frequency_penalty": 0.4,
    "logit_bias": {"50256": -100},
    "logprobs": True,
    "top_logprobs": 2,
    "seed": 11,
    "user": "user-7",
    "safety_identifier": "hash-7",
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "tool_choice": "required",
    "parallel_tool_calls": False,
    "functions": [{"name": "f", "parameters": {"type": "object"}}],
    "function_call": "auto",
    "response_format": {"type": "json_object"},
    "service_tier": "flex",
    "store": True,
    "metadata": {"run": "7"},
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
    "prediction": {"type": "content", "content": "x"},
    "web_search_options": {"search_context_size": "low"},
    "verbosity": "low",
    "moderation": {"mode": "strict"},
    "prompt_cache_key": "conversation-7",
    "prompt_cache_retention": "24h",
    "prompt_cache_options": {"ttl": "1h"},
    "chat_template_kwargs": {"add_generation_prompt": True},
}
STRUCTURAL = ("model", "messages", "stream")
ASK = [{"role": "user", "content": "Hi"}]


def representative(dialect: str) -> ModelSpec:
    """A reasoning model of the dialect from the test catalog (rules of reasoning models are
    the superset)."""
    models = [m for m in catalog().values() if m.provider.dialect == dialect]
    return next((m for m in models if m.reasoning is not None and m.reasoning.efforts), models[0])


def test_schema_dialects_are_the_registry() -> None:
    assert get_args(Dialect) == tuple(DIALECTS)


def test_canonical_fields_cover_the_openai_sdk() -> None:
    sdk = set(completion_create_params.CompletionCreateParamsBase.__annotations__) | {"stream"}
    assert sdk - set(REASONING_CONTROLS) <= set(CANONICAL_FIELDS)
    assert not set(CANONICAL_FIELDS) & set(REASONING_CONTROLS)


def test_every_field_has_a_sample() -> None:
    assert set(SAMPLES) | set(STRUCTURAL) == set(CANONICAL_FIELDS)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_registry_entry_imports_and_satisfies_the_protocol(dialect: str) -> None:
    adapter = adapter_for(dialect)
    assert adapter.name == dialect
    for method in ("build", "parse_response", "stream"):
        assert callable(getattr(adapter, method))
    model = representative(dialect)
    assert model.provider.usage == default_usage(dialect)
    translator = adapter.stream(model, True)
    assert translator.done is False
    assert translator.finish() == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_canonical_field_has_a_rule(dialect: str) -> None:
    adapter = adapter_for(dialect)
    assert set(adapter.params) == set(CANONICAL_FIELDS)
    for table in ("reasoning_params", "thinking_params"):
        overrides: dict[str, Rule] = dict(getattr(adapter, table, {}))
        assert set(overrides) <= set(CANONICAL_FIELDS)
    for rule in adapter.params.values():
        assert rule.kind in ("MAP", "DROP", "REFUSE")
        assert rule.kind == "MAP" or rule.why


def _rule(dialect: str, model: ModelSpec, field: str) -> Rule:
    adapter = adapter_for(dialect)
    rules: dict[str, Rule] = dict(adapter.params)
    if model.reasoning is not None:
        rules.update(getattr(adapter, "reasoning_params", {}))
    return rules[field]


CASES = [(d, f) for d in DIALECTS for f in SAMPLES]


@pytest.mark.parametrize(("dialect", "field"), CASES)
def test_rules_hold_for_a_request(dialect: str, field: str) -> None:
    """MAP reaches the upstream (under its target), DROP is reported (a 400 when strict),
    REFUSE is a 400 naming the field."""
    model = representative(dialect)
    body = {"model": model.name, "messages": ASK, field: SAMPLES[field]}
    if field == "tool_choice":  # a choice among no tools is no request any API takes
        body["tools"] = [{"type": "function", "function": {"name": "f"}}]
    adapter = adapter_for(dialect)
    rule = _rule(dialect, model, field)
    intent = normalize_reasoning(body)
    if rule.kind == "REFUSE":
        with pytest.raises(UnsupportedParameter) as refused:
            adapter.build(body, model, intent, False)
        assert refused.value.param == field
        return
    call = adapter.build(body, model, intent, False)
    if rule.kind == "DROP":
        assert call.report.dropped == [field]
        strict = replace(model, provider=replace(model.provider, strict=True))
        with pytest.raises(UnsupportedParameter) as caught:
            adapter.build(body, strict, intent, True)
        assert caught.value.param == field
        return
    assert call.report.dropped == []
    if dialect not in ("anthropic", "harmony") and rule.convert is None:
        assert field in call.body or rule.target in call.body


@pytest.mark.parametrize("dialect", DIALECTS)
def test_reasoning_controls_never_pass_through(dialect: str) -> None:
    """The client's own controls are read, not forwarded: the adapter writes its own."""
    model = representative(dialect)
    body = {
        "model": model.name,
        "messages": ASK,
        "include_reasoning": True,
        "thinking": {"type": "enabled"},
    }
    call = adapter_for(dialect).build(body, model, normalize_reasoning(body), False)
    assert "include_reasoning" not in call.body
    if dialect != "anthropic":
        assert "thinking" not in call.body


def test_stream_hooks_see_translator_done() -> None:
    """The relay ends a stream that has no `[DONE]` when the translator says it is done."""
    translator = adapter_for("anthropic").stream(representative("anthropic"), True)
    translator.feed({"type": "message_start", "message": {"id": "m", "model": "c", "usage": {}}})
    assert translator.done is False
    out = translator.feed({"type": "message_stop"})
    assert translator.done is True
    assert out[0]["choices"] == [] and "usage" in out[0]
