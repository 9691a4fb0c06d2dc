"""decide() as a pure function over a table of cases, with hand-computed expected costs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from router.policy.decide import Decision, Pin, decide, expected_cost
from router.policy.load import parse_policy
from router.policy.priors import TokenPriors
from tests.unit.policy.catalog import MODELS, ROLES, verdict

POLICY_TEXT = """
virtual_model: auto
reference: large
floor: 0.7
floors: {hard: 0.9}
tiers:
  trivial:
    any: [{model: small, quality: 0.9}, {model: reasoner, effort: low}]
  simple:
    any: [{model: small, quality: 0.8}, {model: reasoner, effort: low, quality: 0.9}]
    math: [{model: small, quality: 0.5}, {model: reasoner, effort: low, quality: 0.9}]
  moderate:
    any:
      - {model: reasoner, effort: medium, quality: 0.85}
      - {model: large, effort: medium, quality: 0.9}
  hard:
    any:
      - {model: reasoner, effort: high, quality: 0.85}
      - {model: large, effort: high, quality: 0.95}
      - {model: large, effort: medium, quality: 0.92}
"""
POLICY = parse_policy("default", "test.yaml", POLICY_TEXT, MODELS, ROLES)
PROMPT = 1000


def priors() -> TokenPriors:
    return TokenPriors({name: m.priors for name, m in MODELS.items()})


# Expected completion tokens (priors): small 200; mini 300 + 1000 x scale (math: 2000 x scale);
# big 300 + 400 x scale. Scales: low 0.35, medium 1, high 2.2.
# Costs at 1000 prompt tokens, USD per 1M:
#   small:            0.10*1000 + 0.40*200            = 180   -> $0.000180
#   mini low:         1.10*1000 + 4.40*(300+350)      = 3960  -> $0.003960
#   mini low (math):  1.10*1000 + 4.40*(300+700)      = 5500  -> $0.005500
#   mini medium:      1.10*1000 + 4.40*1300           = 6820  -> $0.006820
#   big medium:       2.00*1000 + 8.00*700            = 7600  -> $0.007600
#   mini high:        1.10*1000 + 4.40*(300+2200)     = 12100 -> $0.012100
#   big medium:                                          7600 (hard: quality 0.92 >= 0.9)
#   big high:         2.00*1000 + 8.00*(300+880)      = 11440 -> $0.011440
CASES = [
    # (category, tier, model, effort, expected cost in USD, why)
    ("knowledge", "trivial", "small", "none", "0.00018", "cheapest of two above 0.7"),
    ("chat", "simple", "small", "none", "0.00018", "small's 0.8 clears the floor"),
    ("math", "simple", "mini", "low", "0.0055", "small's 0.5 is below the floor"),
    ("logic", "moderate", "mini", "medium", "0.00682", "mini is cheaper than big here"),
    ("code", "hard", "big", "medium", "0.0076", "mini's 0.85 is below the hard floor"),
]


@pytest.mark.parametrize(("category", "tier", "model", "effort", "cost", "why"), CASES)
def test_decide_table(
    category: str, tier: str, model: str, effort: str, cost: str, why: str
) -> None:
    d = decide(POLICY, verdict(category, tier), PROMPT, MODELS, priors())
    assert (d.model, d.effort) == (model, effort), why
    assert d.expected_cost == Decimal(cost)
    assert d.tier == tier and d.category == category
    assert f"model={model}; effort={effort}" in d.header()


def test_expected_cost_formula() -> None:
    assert expected_cost(MODELS["small"], 1_000_000, 1_000_000) == Decimal("0.50")


def test_forced_tier_overrides_the_classifier() -> None:
    d = decide(POLICY, verdict("chat", "trivial"), PROMPT, MODELS, priors(), forced_tier="hard")
    assert d.tier == "hard" and d.model == "big"
    assert "tier forced to hard" in d.reason


def test_pinned_conversation_stays_unless_it_escalates() -> None:
    pin = Pin("mini", "medium", "moderate")
    stay = decide(POLICY, verdict("chat", "simple"), PROMPT, MODELS, priors(), pin=pin)
    assert (stay.model, stay.effort) == ("mini", "medium")
    assert "pinned" in stay.reason
    up = decide(POLICY, verdict("chat", "hard"), PROMPT, MODELS, priors(), pin=pin)
    assert up.model == "big" and "escalated from moderate" in up.reason


def test_a_pin_left_for_reasoning_says_so_not_escalated() -> None:
    pin = Pin("small", "none", "trivial")
    asked = decide(
        POLICY, verdict("chat", "trivial"), PROMPT, MODELS, priors(), pin=pin, reasoning=True
    )
    assert asked.model != "small" and "left small as reasoning was asked" in asked.reason
    assert "escalated" not in asked.reason
    gone = decide(
        POLICY,
        verdict("chat", "trivial"),
        PROMPT,
        MODELS,
        priors(),
        pin=pin,
        unavailable=frozenset({"small"}),
    )
    assert "left small (not available to this request)" in gone.reason


def test_effort_cap_from_a_soft_budget() -> None:
    d = decide(POLICY, verdict("code", "hard"), PROMPT, MODELS, priors(), max_effort="medium")
    assert d.effort == "medium" and "capped" in d.reason


def test_learned_tokens_change_the_decision() -> None:
    learned = priors()
    # mini turns out terse on logic at medium effort: 300 tokens instead of 1300.
    for _ in range(200):
        learned.observe("mini", "logic", "medium", 300)
    assert learned.expected("mini", "logic", "medium") == pytest.approx(300, rel=0.02)
    d = decide(POLICY, verdict("logic", "moderate"), PROMPT, MODELS, learned)
    # mini medium now costs 1.10*1000 + 4.40*300 = 2420 -> $0.00242
    assert d.model == "mini" and d.expected_cost == Decimal("0.00242")


def test_one_outlier_moves_the_estimate_by_a_bounded_step() -> None:
    learned = priors()
    before = learned.expected("small", "chat", "none")
    learned.observe("small", "chat", "none", 1_000_000)
    after = learned.expected("small", "chat", "none")
    assert before < after <= before * 1.106  # exp(0.1): one clipped step of ALPHA


def test_priors_survive_a_dump_and_load() -> None:
    learned = priors()
    learned.observe("mini", "math", "high", 5000)
    again = priors()
    assert again.load(learned.dump()) == 1
    assert again.expected("mini", "math", "high") == pytest.approx(
        learned.expected("mini", "math", "high")
    )
    assert again.observations("mini", "math", "high") == 1


ONLY_SMALL_WHEN_EASY = parse_policy(
    "plain",
    "plain.yaml",
    """
virtual_model: auto-plain
reference: large
floor: 0.7
tiers:
  trivial: {any: [{model: small, quality: 0.9}]}
  simple: {any: [{model: small, quality: 0.9}]}
  moderate: {any: [{model: small, quality: 0.8}, {model: reasoner, effort: medium}]}
  hard: {any: [{model: large, effort: high}]}
""",
    MODELS,
    ROLES,
)
NEVER_REASONS = parse_policy(
    "small-only",
    "small-only.yaml",
    """
virtual_model: auto-small
reference: small
floor: 0.5
tiers:
  trivial: {any: [{model: small}]}
  simple: {any: [{model: small}]}
  moderate: {any: [{model: small}]}
  hard: {any: [{model: small}]}
""",
    MODELS,
    ROLES,
)


def test_a_client_that_asks_for_reasoning_gets_a_model_that_reasons() -> None:
    quiet = decide(POLICY, verdict("knowledge", "trivial"), PROMPT, MODELS, priors())
    asked = decide(
        POLICY, verdict("knowledge", "trivial"), PROMPT, MODELS, priors(), reasoning=True
    )
    assert quiet.model == "small"
    assert (asked.model, asked.tier) == ("mini", "trivial")
    assert asked.reason.endswith(", reasoning asked")


def test_reasoning_asked_raises_the_tier_to_the_first_that_lists_a_reasoner() -> None:
    d = trivial_chat(reasoning=True)
    assert (d.model, d.effort, d.tier) == ("mini", "medium", "moderate")
    assert "raised from trivial as reasoning was asked" in d.reason
    hard = decide(
        ONLY_SMALL_WHEN_EASY, verdict("chat", "hard"), PROMPT, MODELS, priors(), reasoning=True
    )
    assert (hard.model, hard.tier) == ("big", "hard") and "raised" not in hard.reason


def test_reasoning_asked_leaves_a_pin_on_a_model_that_cannot_reason() -> None:
    pin = Pin("small", "none", "simple")
    d = decide(POLICY, verdict("chat", "simple"), PROMPT, MODELS, priors(), pin=pin, reasoning=True)
    assert d.model == "mini" and "pinned" not in d.reason


def test_reasoning_asked_of_a_policy_without_a_reasoner_says_so() -> None:
    d = decide(NEVER_REASONS, verdict("math", "hard"), PROMPT, MODELS, priors(), reasoning=True)
    assert d.model == "small"
    assert d.reason.endswith(", reasoning asked but no candidate reasons")


def trivial_chat(**options: Any) -> Decision:
    """A trivial chat request decided under ONLY_SMALL_WHEN_EASY."""
    return decide(
        ONLY_SMALL_WHEN_EASY, verdict("chat", "trivial"), PROMPT, MODELS, priors(), **options
    )


def test_the_route_header_is_key_value_pairs_whatever_the_reason() -> None:
    d = trivial_chat(
        forced_tier="simple",
        pin=Pin("small", "none", "trivial"),
        max_effort="medium",
        unavailable=frozenset({"big"}),
        reasoning=True,
    )
    pairs = dict(item.split("=", 1) for item in d.header().split("; "))
    assert list(pairs) == ["category", "tier", "difficulty", "model", "effort", "reason"]
    assert pairs["reason"] == d.reason
    for note in ("tier forced to simple", "effort capped at medium", "reasoning was asked"):
        assert note in d.reason


def test_reasoning_asked_by_a_key_that_may_use_no_reasoner_neither_raises_nor_pretends() -> None:
    d = trivial_chat(allowed=("small",), reasoning=True)
    assert (d.model, d.tier) == ("small", "trivial")
    assert d.reason.endswith(", reasoning asked but no candidate reasons")
