"""Soft budgets: past a threshold, cheaper routing and less thinking instead of a refusal (pure).

A budget reacts at `soft_threshold` (a fraction of its limit); a soft budget without one reacts
at its limit. "Used" is settled plus in flight in the current window, as the store last reported
it (refreshed every `budgets.refresh_seconds`, so the switch can come that much late).

Reacting means: the team's requests carry `policy_override` (the budget's `soft_policy`), which
the router honours, and their reasoning effort is capped at `budgets.soft_effort_cap`: a request
asking for more, or naming no effort on a reasoning model, is sent at the highest level the
model supports that does not exceed the cap (its lowest level when none is that low).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from router.reasoning.effort import Effort, effort_rank, is_effort
from router.store.base import BudgetRecord, SpendView

ONE = Decimal(1)


@dataclass(frozen=True)
class SoftState:
    scope: str
    used: Decimal
    limit: Decimal
    threshold: Decimal
    policy: str | None
    period_start: float

    def header(self, effort_cap: str | None) -> str:
        value = f"state=soft; scope={self.scope}; used={self.ratio:.2f}"
        if self.policy:
            value += f"; policy={self.policy}"
        if effort_cap:
            value += f"; effort_cap={effort_cap}"
        return value

    @property
    def ratio(self) -> Decimal:
        return self.used / self.limit if self.limit > 0 else ONE


def threshold_of(budget: BudgetRecord) -> Decimal | None:
    if budget.soft_threshold is not None:
        return budget.soft_threshold
    return None if budget.hard else ONE


def soft_trigger(
    scopes: Sequence[str], budgets: Mapping[str, BudgetRecord], views: Mapping[str, SpendView]
) -> SoftState | None:
    """The first budget, in scope order, whose use has reached its threshold."""
    for scope in scopes:
        budget, view = budgets.get(scope), views.get(scope)
        if budget is None or view is None:
            continue
        threshold = threshold_of(budget)
        used = view.settled + view.in_flight
        if threshold is not None and used >= threshold * view.limit:
            return SoftState(
                scope, used, view.limit, threshold, budget.soft_policy, view.window_start
            )
    return None


def _effort(value: object) -> Effort | None:
    return cast(Effort, value) if is_effort(value) else None


def _rank(level: str) -> int:
    return effort_rank(cast(Effort, level))


def requested_effort(body: Mapping[str, Any]) -> tuple[str, Effort | None]:
    """(field, effort) of the client's effort: `reasoning_effort` or `reasoning.effort`."""
    reasoning = body.get("reasoning")
    if isinstance(reasoning, Mapping) and "effort" in reasoning:
        return "reasoning.effort", _effort(reasoning.get("effort"))
    return "reasoning_effort", _effort(body.get("reasoning_effort"))


def capped_level(cap: Effort, supported: Sequence[str]) -> str | None:
    """The highest supported level not above `cap` (the lowest level when none is)."""
    levels = sorted((e for e in supported if is_effort(e) and e != "none"), key=_rank)
    if not levels:
        return None
    below = [e for e in levels if _rank(e) <= effort_rank(cap)]
    return below[-1] if below else levels[0]


def cap_effort(
    body: Mapping[str, Any], cap: Effort, supported: Sequence[str], default: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The body with its effort capped, and the level sent (None: left as it was).

    `default` is the effort the request gets when the client names none (the router's choice);
    None means the model's own default, which is assumed to be above the cap.
    """
    level = capped_level(cap, supported)
    field, asked = requested_effort(body)
    effective = asked if asked is not None else _effort(default)
    if level is None or (effective is not None and effort_rank(effective) <= _rank(level)):
        return dict(body), None
    out = dict(body)
    if field == "reasoning.effort":
        out["reasoning"] = {**body["reasoning"], "effort": level}
    else:
        out["reasoning_effort"] = level
    return out, level
