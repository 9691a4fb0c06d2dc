"""The errors a reservation can end in, with messages that say what to do (pure).

- a hard budget that cannot pay even a minimal answer: 429 `budget_exceeded`, naming the budget,
  its limit, what is settled, what requests in flight hold, what this request needed, what is
  left and when the window resets; the body's `error.budget` carries the same figures;
- a requests- or tokens-per-minute limit: 429 `rate_limit_exceeded` with `x-ratelimit-*`;
- the store cannot be reached and budgets fail closed: 503 `overloaded`.

Retry hints follow the OpenAI SDK: `retry-after` (seconds), and `x-should-retry: false` when
waiting cannot help before the window resets (settled spend alone leaves no room).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from router.budget.ratelimit import refusal_headers
from router.errors import BudgetExceeded, Overloaded, RateLimited
from router.metering.cost import format_usd
from router.store.base import BudgetRecord, BudgetRefusal, RateRefusal

IN_FLIGHT_RETRY_SECONDS = 1


class BudgetRefused(BudgetExceeded):
    """`budget_exceeded`, with the figures also in `error.budget`."""

    def __init__(self, message: str, detail: dict[str, Any], headers: dict[str, str]) -> None:
        super().__init__(message, headers=headers)
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["budget"] = self.detail
        return body


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def usd(amount: Any) -> str:
    return "$" + format_usd(amount)


def budget_detail(refusal: BudgetRefusal, budget: BudgetRecord | None) -> dict[str, Any]:
    return {
        "scope": refusal.scope,
        "window": budget.window if budget else None,
        "tz": budget.tz if budget else None,
        "limit_usd": format_usd(refusal.limit),
        "settled_usd": format_usd(refusal.settled),
        "in_flight_usd": format_usd(refusal.in_flight),
        "requested_usd": format_usd(refusal.requested),
        "remaining_usd": format_usd(refusal.remaining),
        "resets_at": iso(refusal.resets_at),
    }


def budget_error(refusal: BudgetRefusal, budget: BudgetRecord | None, now: float) -> BudgetRefused:
    where = f"{refusal.scope} ({budget.window}, {budget.tz})" if budget else refusal.scope
    held = (
        f"{usd(refusal.in_flight)} held by requests in flight"
        if refusal.in_flight > 0
        else "nothing in flight"
    )
    resets = (
        f"The budget resets at {iso(refusal.resets_at)}."
        if refusal.resets_at is not None
        else "The budget never resets (window: total)."
    )
    message = (
        f"Budget exceeded: {where} has {usd(refusal.remaining)} left of {usd(refusal.limit)} "
        f"({usd(refusal.settled)} settled, {held}), and this request needs at least "
        f"{usd(refusal.requested)} for a minimal answer. {resets}"
    )
    headers = {"x-tokenwise-budget": f"state=exceeded; scope={refusal.scope}"}
    if refusal.settled + refusal.requested > refusal.limit:
        headers["x-should-retry"] = "false"  # only the window's end makes room
        if refusal.resets_at is not None:
            headers["retry-after"] = str(max(1, math.ceil(refusal.resets_at - now)))
    else:
        message += " Requests in flight will release what they do not spend: retry shortly."
        headers["retry-after"] = str(IN_FLIGHT_RETRY_SECONDS)
    return BudgetRefused(message, budget_detail(refusal, budget), headers)


def rate_error(refusal: RateRefusal, now: float) -> RateLimited:
    what = "requests" if refusal.rule == "rpm" else "tokens"
    wait = max(0.0, refusal.resets_at - now)
    headers = refusal_headers(refusal, now)
    if refusal.rule == "tpm" and refusal.requested > refusal.limit:
        # No minute will ever hold it: waiting does not help, a smaller request does.
        headers["x-should-retry"] = "false"
        return RateLimited(
            f"Request too large for {refusal.scope} on tokens per minute: limit "
            f"{refusal.limit}, this request needs {refusal.requested} (its prompt plus the "
            "output it may generate: its output limit, or the expected output when it sets "
            "none; times n). Set a lower max_tokens (or max_completion_tokens, or n), or "
            "shorten the prompt.",
            headers=headers,
        )
    message = (
        f"Rate limit reached for {refusal.scope} on {what} per minute: limit {refusal.limit}, "
        f"used {refusal.used}"
        + (f", this request needs {refusal.requested}" if refusal.rule == "tpm" else "")
        + f". Try again in {math.ceil(wait)}s."
    )
    headers["retry-after"] = str(max(1, math.ceil(wait)))
    return RateLimited(message, headers=headers)


def store_error() -> Overloaded:
    return Overloaded(
        "The budget store cannot be reached, so this proxy refuses requests it cannot account "
        "for (budgets.on_store_error: fail_closed). Retry shortly.",
        headers={"retry-after": "1"},
    )
