"""Which rate rules a request counts against, and the headers on success."""

from __future__ import annotations

from router.auth import Principal
from router.budget.ratelimit import LocalMinutes, rules_for
from router.config.schema import RateLimit, RateLimits
from router.store.base import RateRule

MINUTE = 1_800_000_000.0  # a minute boundary (divisible by 60)


def test_key_limits_win_over_defaults_and_team_limits_come_from_config() -> None:
    limits = RateLimits(
        teams={"research": RateLimit(rpm=100)},
        default_team=RateLimit(tpm=5000),
        default_key=RateLimit(rpm=10, tpm=1000),
    )
    own = Principal("research", "k1", rpm=3)
    assert rules_for(own, limits) == (
        RateRule("key:k1", rpm=3, tpm=1000),
        RateRule("team:research", rpm=100, tpm=None),
    )
    other = Principal("ops", "k2")
    assert rules_for(other, limits) == (
        RateRule("key:k2", rpm=10, tpm=1000),
        RateRule("team:ops", rpm=None, tpm=5000),
    )


def test_no_limits_no_rules() -> None:
    assert rules_for(Principal("a", "k"), RateLimits()) == ()


def test_headers_report_the_tightest_rule_and_reset_each_minute() -> None:
    minutes = LocalMinutes()
    rules = (RateRule("key:k", rpm=3, tpm=1000), RateRule("team:t", rpm=10, tpm=300))
    first = minutes.add(rules, 100, MINUTE + 15)
    assert first == {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "2",
        "x-ratelimit-reset-requests": "45s",
        "x-ratelimit-limit-tokens": "300",
        "x-ratelimit-remaining-tokens": "200",
        "x-ratelimit-reset-tokens": "45s",
    }
    minutes.add(rules, 100, MINUTE + 20)
    third = minutes.add(rules, 150, MINUTE + 30)
    assert third["x-ratelimit-remaining-requests"] == "0"
    assert third["x-ratelimit-remaining-tokens"] == "0"
    fresh = minutes.add(rules, 100, MINUTE + 61)
    assert fresh["x-ratelimit-remaining-requests"] == "2"
    assert fresh["x-ratelimit-reset-requests"] == "59s"
