"""The effort grid: every catalog model (dialect x family) x every effort x strict or not.

Expectations come from rules written here, independently of the adapters: INTERFACES.md's
rounding (up to the next supported level, else down to the highest; `none` only where the model
can switch reasoning off), which levels each API can express at all, and the field each
dialect writes. Nothing is listed case by case.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from router.config.load import ModelSpec
from router.errors import ProxyError
from router.providers.registry import adapter_for
from router.reasoning.intent import normalize_reasoning
from tests.unit.providers.catalog import catalog

LADDER = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
EXPRESSIBLE = {
    "ollama": {"low", "medium", "high"},
    "harmony": {"low", "medium", "high"},
    "gemini": {"minimal", "low", "medium", "high"},
}
ADAPTIVE = {"low", "medium", "high", "xhigh", "max"}
ANTHROPIC_MIN_BUDGET = 1024
EFFORT_FIELD_DIALECTS = {
    "openai_compat",
    "openai",
    "ollama",
    "xai",
    "cerebras",
    "groq",
    "gemini",
    "vllm",
    "sglang",
}
WIRE_KEYS = ("reasoning_effort", "reasoning", "thinking", "output_config", "chat_template_kwargs")


def family(model: ModelSpec) -> str:
    spec = model.reasoning
    if spec is None:
        return "plain"
    if spec.adaptive_only:
        return "adaptive"
    if [e for e in spec.efforts if e != "none"]:
        return "levels"
    return "switch" if spec.can_disable else "fixed"


def offered(model: ModelSpec) -> list[str]:
    spec = model.reasoning
    assert spec is not None
    levels: set[str] = {e for e in spec.efforts if e != "none"}
    limit = ADAPTIVE if spec.adaptive_only else EXPRESSIBLE.get(model.provider.dialect)
    if limit is not None:
        levels &= limit
    if spec.can_disable or "none" in spec.efforts:
        levels.add("none")
    return sorted(levels, key=LADDER.index)


def rounded(requested: str, levels: list[str]) -> str:
    above = [level for level in levels if LADDER.index(level) >= LADDER.index(requested)]
    return above[0] if above else levels[-1]


def with_strict(model: ModelSpec, strict: bool) -> ModelSpec:
    return replace(model, provider=replace(model.provider, strict=strict))


GRID = [
    pytest.param(name, effort, strict, id=f"{name}-{effort}-{'strict' if strict else 'lenient'}")
    for name in catalog()
    for effort in LADDER
    for strict in (False, True)
]


def _build(model: ModelSpec, effort: str) -> Any:
    body = {"model": model.name, "messages": [{"role": "user", "content": "Hi"}]}
    body["reasoning_effort"] = effort
    adapter = adapter_for(model.provider.dialect)
    return adapter.build(body, model, normalize_reasoning(body), model.provider.strict)


def _check_not_sent(body: dict[str, Any]) -> None:
    assert not any(key in body for key in WIRE_KEYS), body


def _check_switch(model: ModelSpec, effort: str, call: Any) -> None:
    dialect, on = model.provider.dialect, effort != "none"
    headers = call.report.headers()
    sent = "default" if on else "none"
    assert headers["x-tokenwise-effort"] == f"requested={effort}; sent={sent}"
    if dialect in ("vllm", "sglang"):
        assert call.body["chat_template_kwargs"] == {"enable_thinking": on}
    elif dialect == "groq":
        assert call.body["reasoning_effort"] == ("default" if on else "none")
    elif dialect == "openrouter":
        assert call.body["reasoning"] == {"enabled": on}


def _check_levels(model: ModelSpec, effort: str, call: Any) -> None:
    spec = model.reasoning
    assert spec is not None
    dialect, sent, body = model.provider.dialect, rounded(effort, offered(model)), call.body
    header = call.report.headers()["x-tokenwise-effort"]
    assert header.startswith(f"requested={effort}; sent={sent}")
    if dialect in EFFORT_FIELD_DIALECTS:
        assert body["reasoning_effort"] == sent
    elif dialect == "openrouter":
        assert body["reasoning"] == ({"enabled": False} if sent == "none" else {"effort": sent})
    elif dialect == "harmony":
        assert f"\nReasoning: {sent}\n" in body["prompt"]
    elif dialect == "anthropic" and spec.adaptive_only:
        assert body["thinking"] == {"type": "adaptive", "display": "summarized"}
        assert body["output_config"] == {"effort": sent}
    elif dialect == "anthropic" and sent == "none":
        assert "thinking" not in body
    elif dialect == "anthropic":
        limit = spec.max_output_tokens
        assert limit is not None
        table = {str(level): tokens for level, tokens in spec.budgets.items()}
        budget = min(max(table[sent], ANTHROPIC_MIN_BUDGET), limit - spec.min_visible_tokens)
        assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
        assert budget < body["max_tokens"] <= limit
        assert body["max_tokens"] - budget >= spec.min_visible_tokens
        assert header.endswith(f"; budget={budget}")
    else:
        raise AssertionError(f"no wire rule for {dialect}")


@pytest.mark.parametrize(("name", "effort", "strict"), GRID)
def test_grid(name: str, effort: str, strict: bool) -> None:
    model = with_strict(catalog()[name], strict)
    kind = family(model)
    dropped = kind == "fixed" or (kind == "plain" and effort != "none")
    if dropped and strict:
        with pytest.raises(ProxyError) as refused:
            _build(model, effort)
        assert (refused.value.status, refused.value.code) == (400, "unsupported_parameter")
        assert refused.value.param == "reasoning_effort"
        return
    call = _build(model, effort)
    headers = call.report.headers()
    assert ("dropped=reasoning_effort" in headers.get("x-tokenwise-params", "")) == dropped
    if kind == "plain":
        assert headers["x-tokenwise-effort"] == f"requested={effort}; sent=none"
        _check_not_sent(call.body)
    elif kind == "fixed":
        assert headers["x-tokenwise-effort"] == f"requested={effort}; sent=default"
        _check_not_sent(call.body)
    elif kind == "switch":
        _check_switch(model, effort, call)
    else:
        _check_levels(model, effort, call)


@pytest.mark.parametrize("name", list(catalog()))
def test_garbage_effort_is_a_400_listing_the_ladder(name: str) -> None:
    with pytest.raises(ProxyError) as caught:
        _build(catalog()[name], "turbo")
    assert (caught.value.status, caught.value.code) == (400, "invalid_reasoning")
    assert ", ".join(LADDER) in caught.value.message


def test_grid_spans_every_family() -> None:
    families = {(m.provider.dialect, family(m)) for m in catalog().values()}
    assert {kind for _, kind in families} == {"plain", "levels", "switch", "fixed", "adaptive"}
    assert len(GRID) >= 400
