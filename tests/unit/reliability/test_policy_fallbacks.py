"""Policy candidates name their fallbacks; routing leaves out upstreams whose breaker is open."""

from __future__ import annotations

import pytest

from router.config.load import ConfigError
from router.policy.decide import Pin, decide
from router.policy.load import parse_policy
from router.policy.priors import TokenPriors
from tests.unit.policy.catalog import MODELS, ROLES, verdict

TEXT = """
virtual_model: auto
reference: large
floor: 0.5
tiers:
  trivial:
    any:
      - {model: small, fallbacks: [reasoner, big]}
      - {model: reasoner, effort: low, fallbacks: [large]}
  simple: {any: [{model: small}]}
  moderate: {any: [{model: small}]}
  hard: {any: [{model: small}]}
"""
POLICY = parse_policy("default", "test.yaml", TEXT, MODELS, ROLES)


def priors() -> TokenPriors:
    return TokenPriors({name: m.priors for name, m in MODELS.items()})


def test_roles_in_fallbacks_resolve_to_catalog_models_and_reach_the_decision() -> None:
    d = decide(POLICY, verdict("chat", "trivial"), 1000, MODELS, priors())
    assert d.model == "small" and d.fallbacks == ("mini", "big")


def test_an_open_upstream_is_left_out_while_another_remains() -> None:
    d = decide(
        POLICY, verdict("chat", "trivial"), 1000, MODELS, priors(), unavailable=frozenset({"small"})
    )
    assert d.model == "mini" and d.fallbacks == ("big",)
    assert "1 skipped (circuit open)" in d.reason
    alone = decide(
        POLICY, verdict("chat", "hard"), 1000, MODELS, priors(), unavailable=frozenset({"small"})
    )
    assert alone.model == "small"  # nothing else listed: the attempt loop decides


def test_a_session_pinned_to_an_open_upstream_is_routed_afresh() -> None:
    pin = Pin("mini", "low", "trivial")
    d = decide(POLICY, verdict("chat", "trivial"), 1000, MODELS, priors(), pin=pin)
    assert d.model == "mini"
    moved = decide(
        POLICY,
        verdict("chat", "trivial"),
        1000,
        MODELS,
        priors(),
        pin=pin,
        unavailable=frozenset({"mini"}),
    )
    assert moved.model == "small"


def test_a_fallback_must_exist() -> None:
    bad = TEXT.replace("fallbacks: [reasoner, big]", "fallbacks: [nope]")
    with pytest.raises(ConfigError, match=r"tiers.trivial.any.0.fallbacks.0"):
        parse_policy("default", "test.yaml", bad, MODELS, ROLES)


def test_a_role_that_names_the_candidate_itself_is_left_out() -> None:
    roles = {**ROLES, "large": "small"}  # two roles, one model
    text = TEXT.replace("fallbacks: [reasoner, big]", "fallbacks: [large, small, reasoner, mini]")
    policy = parse_policy("default", "test.yaml", text, MODELS, roles)
    assert policy.tiers["trivial"]["any"][0].fallbacks == ("mini",)
