"""The circuit breaker's state machine (router/upstream/breaker.py), on a hand-driven clock."""

from __future__ import annotations

from router.config.schema import Breaker as BreakerConfig
from router.upstream.breaker import Breaker, Breakers, State

CONFIG = BreakerConfig(window_s=10, min_requests=4, error_rate=0.5, open_s=5, probes=1)


def test_stays_closed_below_min_requests_and_below_the_error_rate() -> None:
    b = Breaker(CONFIG)
    for _ in range(3):
        b.record("failed", 100.0)
    assert b.state == "closed"  # 3 tries: too few to judge
    b = Breaker(CONFIG)
    for outcome in ("ok", "ok", "ok", "failed", "ok", "failed"):
        b.record(outcome, 100.0)
    assert b.state == "closed"  # 2 of 6 failed: below 50%


def test_opens_at_the_error_rate_and_refuses_until_open_s() -> None:
    b = Breaker(CONFIG)
    for outcome in ("ok", "failed", "ok", "failed"):
        b.record(outcome, 100.0)
    assert b.state == "open"
    assert not b.allow(104.9) and not b.available(104.9)
    assert b.retry_in(103.0) == 2.0


def test_old_failures_leave_the_window() -> None:
    b = Breaker(CONFIG)
    for _ in range(3):
        b.record("failed", 100.0)
    b.record("failed", 111.0)  # the three are 11 s old: outside the 10 s window
    assert b.state == "closed"
    b.record("failed", 111.5)
    b.record("failed", 112.0)
    b.record("failed", 112.0)
    assert b.state == "open"


def test_half_open_lets_one_probe_through_then_closes_or_reopens() -> None:
    b = Breaker(CONFIG)
    for _ in range(4):
        b.record("failed", 100.0)
    assert b.allow(105.0) and b.state == "half_open"
    assert not b.allow(105.1)  # the probe's slot is taken
    b.record("failed", 105.5)
    assert b.state == "open" and b.opened_at == 105.5
    assert b.allow(110.5)
    b.record("ok", 110.6)
    assert b.state == "closed" and b.allow(110.7)
    for _ in range(3):
        b.record("failed", 110.8)
    assert b.state == "closed"  # a closed breaker starts counting afresh


def test_a_neutral_probe_frees_its_slot_without_judging() -> None:
    b = Breaker(CONFIG)
    for _ in range(4):
        b.record("failed", 100.0)
    assert b.allow(105.0)
    b.record("neutral", 105.1)  # the client left, or the request was at fault
    assert b.state == "half_open" and b.allow(105.2)


def test_neutral_outcomes_do_not_count() -> None:
    b = Breaker(CONFIG)
    for _ in range(10):
        b.record("neutral", 100.0)
    b.record("failed", 100.0)
    assert b.state == "closed"


def test_breakers_report_changes_and_what_routing_should_skip() -> None:
    changes: list[tuple[str, State]] = []
    breakers = Breakers(CONFIG, ["a", "b"], lambda n, s: changes.append((n, s)))
    assert changes == [("a", "closed"), ("b", "closed")]
    assert breakers.unavailable(100.0) == frozenset()
    for _ in range(4):
        breakers.record("a", "failed", 100.0)
    assert changes[-1] == ("a", "open")
    assert breakers.unavailable(101.0) == {"a"}
    assert breakers.snapshot(101.0) == {
        "a": {"state": "open", "retry_in_s": 4.0},
        "b": {"state": "closed"},
    }
    assert breakers.allow("a", 105.0) and changes[-1] == ("a", "half_open")
    assert breakers.unavailable(105.0) == {"a"}  # its one probe is out
    breakers.record("a", "ok", 105.2)
    assert changes[-1] == ("a", "closed") and breakers.unavailable(105.3) == frozenset()
    assert breakers.allow("unknown", 0.0)  # not a catalog upstream: never blocked
