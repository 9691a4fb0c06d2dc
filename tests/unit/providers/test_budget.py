"""Thinking-budget invariants (property-based) and how a budget is put on the wire."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from router.errors import UnsupportedParameter
from router.providers.base import ParamReport
from router.providers.effort_plan import budget_on_wire, fit_budget
from router.providers.registry import adapter_for
from router.reasoning.effort import EffortChoice
from router.reasoning.intent import normalize_reasoning
from tests.unit.providers.catalog import catalog

tokens = st.integers(min_value=1, max_value=300_000)


@given(
    budget=tokens,
    cap=st.none() | tokens,
    minimum=st.sampled_from([128, 512, 1024]),
    min_visible=st.integers(min_value=1, max_value=8192),
    limit=st.none() | tokens,
)
def test_invariants(
    budget: int, cap: int | None, minimum: int, min_visible: int, limit: int | None
) -> None:
    assume(limit is None or limit >= minimum + min_visible)  # a model that can think at all
    fit = fit_budget(budget, cap, minimum=minimum, min_visible=min_visible, limit=limit)
    if fit is None:  # only when the client's cap leaves no room for the minimum
        assert cap is not None and cap <= minimum
        return
    assert fit.budget >= minimum
    assert fit.budget < fit.cap
    assert fit.budget <= max(budget, minimum)
    if cap is None:
        assert fit.cap - fit.budget >= min_visible
        if limit is not None:
            assert fit.cap <= limit
    else:
        assert fit.cap == cap  # the client's bound on everything generated is never raised
        if cap - min_visible >= minimum:
            assert fit.cap - fit.budget >= min_visible
    fits_already = minimum <= budget and budget + min_visible <= (cap or 0)
    if fits_already and (limit is None or budget + min_visible <= limit):
        assert (fit.budget, fit.cap) == (budget, cap)


def test_the_clients_cap_stays_and_the_budget_is_lowered() -> None:
    fit = fit_budget(24576, 4096, minimum=1024, min_visible=1024, limit=64000)
    assert fit is not None and (fit.budget, fit.cap) == (3072, 4096)


def test_budget_lowered_to_fit_the_limit() -> None:
    fit = fit_budget(64000, None, minimum=1024, min_visible=2000, limit=32000)
    assert fit is not None and (fit.budget, fit.cap) == (30000, 32000)


def test_budget_lowered_when_the_limit_is_unknown() -> None:
    fit = fit_budget(8000, 5000, minimum=1024, min_visible=1024, limit=None)
    assert fit is not None and (fit.budget, fit.cap) == (3976, 5000)


def test_the_minimum_under_a_small_cap_and_no_thinking_under_a_smaller_one() -> None:
    fit = fit_budget(8000, 1500, minimum=1024, min_visible=1024, limit=None)
    assert fit is not None and (fit.budget, fit.cap) == (1024, 1500)
    assert fit_budget(8000, 1024, minimum=1024, min_visible=1024, limit=None) is None


def test_budget_on_wire_reports_only_what_changed() -> None:
    spec = catalog()["claude-sonnet-4-5"].reasoning
    assert spec is not None
    report = ParamReport("anthropic", effort=EffortChoice("high", "high"))
    out = {"max_tokens": 30000}
    budget = budget_on_wire(out, 24576, spec, report, minimum=1024, explicit=False)
    assert (budget, out["max_tokens"], report.clamped) == (24576, 30000, [])
    assert report.effort_header() == "requested=high; sent=high; budget=24576"
    out = {"max_tokens": 2000}
    budget = budget_on_wire(out, 500, spec, report, minimum=1024, explicit=True)
    assert (budget, out["max_tokens"]) == (1024, 2000)
    assert report.clamped == [("thinking_budget", 1024)]
    assert report.params_header() == "clamped=thinking_budget:1024"


def test_no_room_for_thinking_turns_it_off_and_says_why() -> None:
    spec = catalog()["claude-sonnet-4-5"].reasoning
    assert spec is not None
    report = ParamReport("anthropic", effort=EffortChoice("high", "high"))
    out = {"max_tokens": 600}
    assert budget_on_wire(out, 24576, spec, report, minimum=1024, explicit=False) is None
    assert out == {"max_tokens": 600}
    assert report.dropped == ["reasoning_effort"]
    assert report.effort_header() == "requested=high; sent=none"


def test_no_cap_is_added_unless_required() -> None:
    spec = catalog()["deepseek-r1@openrouter"].reasoning
    assert spec is not None
    out: dict[str, int] = {}
    budget_on_wire(out, 4000, spec, ParamReport("or"), minimum=1024, explicit=True)
    assert out == {}
    report = ParamReport("an")
    budget_on_wire(out, 4000, spec, report, minimum=1024, explicit=True, default_cap=8192)
    assert out == {"max_tokens": 8192}


def test_a_budget_an_api_cannot_take_is_reported_never_silently_degraded() -> None:
    """vLLM, SGLang, Groq, Ollama take levels or a switch: a client's token budget goes as the
    level it maps to (or as thinking on), and the header says the budget was not sent."""
    body = {"model": "x", "messages": [{"role": "user", "content": "hi"}]}
    asked = {**body, "reasoning": {"max_tokens": 3000}}
    for name, wire in [
        ("gpt-oss-120b@vllm", {"reasoning_effort": "medium"}),
        ("qwen3@vllm", {"chat_template_kwargs": {"enable_thinking": True}}),
    ]:
        model = catalog()[name]
        call = adapter_for(model.provider.dialect).build(
            asked, model, normalize_reasoning(asked), False
        )
        assert {k: call.body[k] for k in wire} == wire
        assert call.report.dropped == ["reasoning.max_tokens"], name
        with pytest.raises(UnsupportedParameter, match="no thinking budget"):
            adapter_for(model.provider.dialect).build(
                asked, model, normalize_reasoning(asked), True
            )
    gemini = catalog()["gemini-2.5-flash"]
    call = adapter_for(gemini.provider.dialect).build(
        asked, gemini, normalize_reasoning(asked), True
    )
    assert call.report.dropped == []  # Gemini takes the budget itself
