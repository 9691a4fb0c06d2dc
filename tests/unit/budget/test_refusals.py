"""The 429 and 503 a reservation can end in: which budget, what is in flight, when it resets."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.budget.ratelimit import reset_text
from router.budget.refusals import budget_error, rate_error, store_error
from router.store.base import BudgetRecord, BudgetRefusal, RateRefusal

D = Decimal
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()
MONTH_END = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
BUDGET = BudgetRecord("team:research", D(10), window="month", tz="UTC")


def refusal(settled: str, in_flight: str, requested: str) -> BudgetRefusal:
    return BudgetRefusal("team:research", D(settled), D(in_flight), D(10), D(requested), MONTH_END)


def test_a_refusal_caused_by_requests_in_flight_says_so_and_invites_a_retry() -> None:
    error = budget_error(refusal("9.5", "0.49", "0.02"), BUDGET, NOW)
    assert error.status == 429 and error.code == "budget_exceeded"
    assert "team:research (month, UTC)" in error.message
    assert "$0.01 left of $10" in error.message
    assert "$9.5 settled, $0.49 held by requests in flight" in error.message
    assert "needs at least $0.02" in error.message
    assert "2026-12-01T00:00:00Z" in error.message
    assert error.headers["retry-after"] == "1"
    assert "x-should-retry" not in error.headers
    detail = error.body()["error"]["budget"]
    assert detail == {
        "scope": "team:research",
        "window": "month",
        "tz": "UTC",
        "limit_usd": "10",
        "settled_usd": "9.5",
        "in_flight_usd": "0.49",
        "requested_usd": "0.02",
        "remaining_usd": "0.01",
        "resets_at": "2026-12-01T00:00:00Z",
    }
    assert error.body()["error"]["code"] == "budget_exceeded"


def test_a_refusal_by_settled_spend_alone_waits_for_the_window() -> None:
    error = budget_error(refusal("9.995", "0", "0.01"), BUDGET, NOW)
    assert "nothing in flight" in error.message
    assert error.headers["x-should-retry"] == "false"
    assert int(error.headers["retry-after"]) == round(MONTH_END - NOW)


def test_a_total_budget_never_resets() -> None:
    total = BudgetRefusal("key:k1", D(5), D(0), D(5), D("0.1"), None)
    error = budget_error(total, BudgetRecord("key:k1", D(5), window="total"), NOW)
    assert "never resets" in error.message
    assert "retry-after" not in error.headers
    assert error.body()["error"]["budget"]["resets_at"] is None


def test_rate_refusal_has_openai_headers() -> None:
    rpm = RateRefusal("key:k1", "rpm", 60, 60, 1, NOW + 12.5)
    error = rate_error(rpm, NOW)
    assert error.status == 429 and error.code == "rate_limit_exceeded"
    assert "key:k1 on requests per minute: limit 60, used 60" in error.message
    assert error.headers["x-ratelimit-limit-requests"] == "60"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.headers["x-ratelimit-reset-requests"] == "12.5s"
    assert error.headers["retry-after"] == "13"
    tpm = rate_error(RateRefusal("team:a", "tpm", 1000, 900, 200, NOW + 30), NOW)
    assert "this request needs 200" in tpm.message
    assert tpm.headers["x-ratelimit-remaining-tokens"] == "100"
    assert "x-should-retry" not in tpm.headers


def test_a_request_no_minute_can_hold_is_told_so_not_to_wait() -> None:
    alone = rate_error(RateRefusal("key:k1", "tpm", 3000, 0, 5010, NOW + 55), NOW)
    assert alone.status == 429 and alone.code == "rate_limit_exceeded"
    assert "Request too large for key:k1" in alone.message and "needs 5010" in alone.message
    assert "Try again" not in alone.message and "Set a lower max_tokens" in alone.message
    assert alone.headers["x-should-retry"] == "false" and "retry-after" not in alone.headers


def test_store_down_is_a_503_without_internals() -> None:
    error = store_error()
    assert error.status == 503 and error.code == "overloaded"
    assert "fail_closed" in error.message
    assert error.headers["retry-after"] == "1"


def test_reset_text_follows_openai() -> None:
    assert reset_text(0.02) == "20ms"
    assert reset_text(1) == "1s"
    assert reset_text(17.5) == "17.5s"
    assert reset_text(360) == "6m0s"
    assert reset_text(61.4) == "1m1s"
