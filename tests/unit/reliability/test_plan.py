"""Which upstreams a request may try (router/reliability/plan.py), and the config checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from router.config.load import ConfigError, load_settings
from router.config.schema import Reliability
from router.reliability.plan import candidates, larger_window, problems
from tests.unit.policy.catalog import MODELS

# MODELS: small, mini, big (all 128k windows in the shared test catalog); resized here.
SIZED = {
    "small": dataclasses.replace(MODELS["small"], context_window=16_000),
    "mini": dataclasses.replace(MODELS["mini"], context_window=128_000),
    "big": dataclasses.replace(MODELS["big"], context_window=200_000),
}


def test_candidates_policy_first_then_config_each_once() -> None:
    config = Reliability(fallbacks={"small": ("big", "mini")})
    assert candidates("small", ("mini",), config) == ("small", "mini", "big")
    assert candidates("big", (), config) == ("big",)


def test_context_overflow_prefers_a_listed_fallback_with_a_larger_window() -> None:
    assert larger_window("small", ["big"], SIZED, ["small"], whole_catalog=True) == "big"
    assert larger_window("mini", ["small"], SIZED, ["mini"], whole_catalog=False) is None


def test_context_overflow_else_the_next_larger_window_in_the_catalog() -> None:
    assert larger_window("small", [], SIZED, ["small"], whole_catalog=True) == "mini"
    assert larger_window("small", [], SIZED, ["small", "mini"], whole_catalog=True) == "big"
    assert larger_window("big", [], SIZED, ["big"], whole_catalog=True) is None


def test_problems_name_the_key() -> None:
    config = Reliability(fallbacks={"small": ("nope", "small"), "ghost": ("big",)})
    assert problems(config, SIZED) == [
        ("reliability.fallbacks.small.0", "'nope' is not a catalog model"),
        ("reliability.fallbacks.small.1", "a model cannot be its own fallback"),
        ("reliability.fallbacks.ghost", "not a catalog model"),
    ]


CONFIG = """
providers:
  p: {base_url: "http://127.0.0.1:9/v1"}
models:
  a: {provider: p, price: gpt-4.1-mini}
  b: {provider: p, price: gpt-4.1-nano}
reliability:
"""


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("  fallbacks: {a: [c]}", "reliability.fallbacks.a.0: 'c' is not a catalog model"),
        ("  retries: {attempts: 0}", "reliability.retries.attempts"),
        ("  breaker: {error_rate: 2}", "reliability.breaker.error_rate"),
        ("  breaker: {half_open: 1}", "reliability.breaker.half_open: unknown key"),
        ("  retry: {}", "reliability.retry: unknown key"),
        ("  max_in_flight: 0", "reliability.max_in_flight"),
    ],
)
def test_bad_reliability_config_does_not_boot(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "tokenwise.yaml"
    path.write_text(CONFIG + section + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings(str(path), env={"TOKENWISE_HOME": str(tmp_path)}, serving=False)


def test_good_reliability_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "tokenwise.yaml"
    text = CONFIG + "  fallbacks: {a: [b]}\n  max_in_flight: 64\n  retries: {deadline_s: 9}\n"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(str(path), env={"TOKENWISE_HOME": str(tmp_path)}, serving=False)
    rel = settings.config.reliability
    assert rel.fallbacks == {"a": ("b",)} and rel.max_in_flight == 64
    assert rel.retries.deadline_s == 9 and rel.retries.attempts == 3
