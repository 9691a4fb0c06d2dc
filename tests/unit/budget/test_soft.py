"""Soft thresholds and the effort cap they bring."""

from __future__ import annotations

from decimal import Decimal

from router.budget.soft import cap_effort, capped_level, soft_trigger
from router.store.base import BudgetRecord, SpendView

D = Decimal
SCOPES = ("team:a", "key:k")


def view(scope: str, settled: str, in_flight: str = "0", limit: str = "10") -> SpendView:
    return SpendView(scope, D(settled), D(in_flight), D(limit), 1000.0, 2000.0)


def test_a_threshold_counts_settled_and_in_flight() -> None:
    budgets = {"team:a": BudgetRecord("team:a", D(10), soft_threshold=D("0.8"), soft_policy="eco")}
    assert soft_trigger(SCOPES, budgets, {"team:a": view("team:a", "7.9")}) is None
    state = soft_trigger(SCOPES, budgets, {"team:a": view("team:a", "7", "1")})
    assert state is not None
    assert (state.scope, state.policy, state.period_start) == ("team:a", "eco", 1000.0)
    assert state.header("low") == "state=soft; scope=team:a; used=0.80; policy=eco; effort_cap=low"


def test_a_soft_budget_without_threshold_reacts_at_its_limit_and_hard_ones_never() -> None:
    soft = {"key:k": BudgetRecord("key:k", D(10), hard=False)}
    assert soft_trigger(SCOPES, soft, {"key:k": view("key:k", "9.99")}) is None
    assert soft_trigger(SCOPES, soft, {"key:k": view("key:k", "10")}) is not None
    hard = {"key:k": BudgetRecord("key:k", D(10))}
    assert soft_trigger(SCOPES, hard, {"key:k": view("key:k", "50")}) is None


def test_capped_level_rounds_down_within_supported() -> None:
    assert capped_level("low", ("low", "medium", "high")) == "low"
    assert capped_level("medium", ("low", "high")) == "low"
    assert capped_level("minimal", ("low", "high")) == "low"  # nothing that low: the lowest
    assert capped_level("low", ()) is None


def test_cap_lowers_a_higher_effort_and_keeps_a_lower_one() -> None:
    levels = ("low", "medium", "high")
    body, sent = cap_effort({"reasoning_effort": "high"}, "low", levels)
    assert (body["reasoning_effort"], sent) == ("low", "low")
    body, sent = cap_effort({"reasoning": {"effort": "high", "exclude": True}}, "medium", levels)
    assert body["reasoning"] == {"effort": "medium", "exclude": True} and sent == "medium"
    body, sent = cap_effort({"reasoning_effort": "low"}, "medium", levels)
    assert body == {"reasoning_effort": "low"} and sent is None


def test_cap_adds_an_effort_when_none_is_named_unless_the_router_chose_a_low_one() -> None:
    body, sent = cap_effort({}, "low", ("low", "medium", "high"))
    assert body == {"reasoning_effort": "low"} and sent == "low"
    body, sent = cap_effort({}, "medium", ("low", "medium", "high"), default="low")
    assert body == {} and sent is None
    body, sent = cap_effort({}, "low", ("low", "medium", "high"), default="high")
    assert body == {"reasoning_effort": "low"} and sent == "low"
