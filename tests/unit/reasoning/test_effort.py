from __future__ import annotations

from collections.abc import Mapping
from itertools import chain, combinations

import pytest

from router.errors import InvalidReasoning
from router.reasoning.effort import (
    DEFAULT_BUDGETS,
    EFFORTS,
    Effort,
    EffortChoice,
    budget_to_effort,
    effort_rank,
    effort_to_budget,
    parse_effort,
    round_effort,
    validate_budgets,
)

LEVELS: tuple[Effort, ...] = EFFORTS[1:]


def test_ladder_order() -> None:
    assert EFFORTS == ("none", "minimal", "low", "medium", "high", "xhigh", "max")
    assert [effort_rank(effort) for effort in EFFORTS] == list(range(7))


@pytest.mark.parametrize("value", EFFORTS)
def test_parse_effort_accepts_the_ladder(value: str) -> None:
    assert parse_effort(value, "reasoning_effort") == value


@pytest.mark.parametrize("value", ["extreme", "High", " high", "", 3, None, True, ["high"]])
def test_parse_effort_rejects_anything_else(value: object) -> None:
    with pytest.raises(InvalidReasoning) as caught:
        parse_effort(value, "reasoning.effort")
    error = caught.value
    assert error.status == 400
    assert error.code == "invalid_reasoning"
    assert error.param == "reasoning.effort"
    assert "none, minimal, low, medium, high, xhigh, max" in error.message
    assert repr(value) in error.message


# -- rounding: every supported set, every request, checked against the rules -------------------

SUPPORTED_SETS: list[frozenset[Effort]] = [
    frozenset(subset)
    for subset in chain.from_iterable(combinations(LEVELS, size) for size in range(7))
]


def _offered(supported: frozenset[Effort], can_disable: bool) -> set[Effort]:
    off: set[Effort] = {"none"} if can_disable else set()
    return set(supported) | off


def _check_rounding(requested: Effort, supported: frozenset[Effort], can_disable: bool) -> None:
    choice = round_effort(requested, supported, can_disable)
    offered = _offered(supported, can_disable)
    rank = effort_rank
    assert choice.requested == requested
    assert choice.sent in offered
    assert choice.adjusted == (choice.sent != requested)
    above = [level for level in offered if rank(level) >= rank(requested)]
    if above:
        # Never less thinking than asked, and no more than the next supported level.
        assert rank(choice.sent) == min(rank(level) for level in above)
    else:
        assert rank(choice.sent) == max(rank(level) for level in offered)
    if requested in offered:
        assert not choice.adjusted
    if requested == "none" and not can_disable:
        assert choice.sent == min(supported, key=rank)


def _name(levels: set[Effort]) -> str:
    ordered: list[Effort] = sorted(levels, key=effort_rank)
    return "+".join(ordered)


MODELS = [
    pytest.param(
        supported,
        can_disable,
        id=_name(_offered(supported, can_disable)),
    )
    for supported in SUPPORTED_SETS
    for can_disable in (False, True)
    if supported or can_disable
]


@pytest.mark.parametrize(("supported", "can_disable"), MODELS)
def test_rounding_rules(supported: frozenset[Effort], can_disable: bool) -> None:
    for requested in EFFORTS:
        _check_rounding(requested, supported, can_disable)


@pytest.mark.parametrize("supported", SUPPORTED_SETS[1:])
def test_rounding_is_monotone(supported: frozenset[Effort]) -> None:
    sent = [effort_rank(round_effort(level, supported, False).sent) for level in EFFORTS]
    assert sent == sorted(sent)


def test_rounding_examples_from_the_interfaces() -> None:
    openai_o3: set[Effort] = {"low", "medium", "high"}
    assert round_effort("minimal", openai_o3, False).header_value() == "requested=minimal; sent=low"
    assert round_effort("xhigh", openai_o3, False).sent == "high"
    assert round_effort("none", openai_o3, False).sent == "low"
    gpt_5_1: set[Effort] = {"none", "low", "medium", "high"}
    assert round_effort("none", gpt_5_1, False).sent == "none"
    assert round_effort("minimal", gpt_5_1, False).sent == "low"
    qwen3: set[Effort] = {"medium"}
    assert round_effort("none", qwen3, True).sent == "none"


def test_a_model_with_nothing_to_send_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="at least one effort level"):
        round_effort("low", set(), False)


def test_header_value_with_and_without_budget() -> None:
    choice = EffortChoice(requested="high", sent="high")
    assert choice.header_value() == "requested=high; sent=high"
    assert not choice.adjusted
    budgeted = EffortChoice(requested="minimal", sent="low").with_budget(1024)
    assert budgeted.header_value() == "requested=minimal; sent=low; budget=1024"
    assert budgeted.adjusted
    assert budgeted.with_budget(None).header_value() == "requested=minimal; sent=low"


# -- budgets --------------------------------------------------------------------------------------


def test_default_budgets_follow_google_and_grow_along_the_ladder() -> None:
    assert (DEFAULT_BUDGETS["low"], DEFAULT_BUDGETS["medium"], DEFAULT_BUDGETS["high"]) == (
        1024,
        8192,
        24576,
    )
    validate_budgets(DEFAULT_BUDGETS)
    assert effort_to_budget("none") == 0


CUSTOM: Mapping[Effort, int] = {
    "minimal": 128,
    "low": 1024,
    "medium": 2048,
    "high": 4096,
    "xhigh": 8192,
    "max": 16384,
}


@pytest.mark.parametrize("budgets", [DEFAULT_BUDGETS, CUSTOM])
@pytest.mark.parametrize("effort", LEVELS)
def test_budget_round_trips_to_its_effort(budgets: Mapping[Effort, int], effort: Effort) -> None:
    budget = effort_to_budget(effort, budgets)
    assert budget_to_effort(budget, budgets) == effort
    assert budget_to_effort(budget - 1, budgets) == effort
    assert budget_to_effort(budget + 1, budgets) == effort


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (0, "none"),
        (-1, "none"),
        (1, "minimal"),
        (700, "minimal"),  # below the log midpoint of 512 and 1024 (about 724)
        (750, "low"),
        (2048, "low"),  # one octave above low, two below medium
        (4096, "medium"),
        (16000, "high"),
        (10**6, "max"),
    ],
)
def test_budget_to_nearest_effort(budget: int, expected: Effort) -> None:
    assert budget_to_effort(budget) == expected


def test_budget_to_effort_is_monotone() -> None:
    ranks = [effort_rank(budget_to_effort(budget)) for budget in range(0, 70000, 97)]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({**CUSTOM, "medium": 1024}, "grow strictly"),
        ({key: value for key, value in CUSTOM.items() if key != "max"}, "maps exactly"),
        ({**CUSTOM, "none": 0}, "maps exactly"),
        ({**CUSTOM, "minimal": 0}, "positive"),
    ],
)
def test_validate_budgets_rejects_bad_tables(budgets: Mapping[Effort, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_budgets(budgets)
