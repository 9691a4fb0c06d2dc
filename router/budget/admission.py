"""What admission decides for one request, as plain values (pure): the soft-budget pressure
read before routing, the admitted request, and how a refusal is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from router.auth import Principal
from router.budget.holds import Hold
from router.budget.soft import SoftState
from router.reasoning.effort import Effort
from router.store.base import BudgetRefusal, RateRefusal


@dataclass(frozen=True)
class Pressure:
    """What soft budgets ask of a request, decided before routing."""

    soft: SoftState | None = None
    effort_cap: Effort | None = None

    @property
    def policy_override(self) -> str | None:
        return self.soft.policy if self.soft is not None else None


NO_PRESSURE = Pressure()


@dataclass(frozen=True)
class Admission:
    body: dict[str, Any]  # what goes upstream: the output limit or effort may be lowered
    headers: dict[str, str]
    hold: Hold | None
    effort: str | None = None  # the effort sent, when a soft budget capped it


def scopes_of(principal: Principal) -> tuple[str, str]:
    return f"team:{principal.team}", f"key:{principal.key_id}"


def held_back(refusal: BudgetRefusal | RateRefusal | None) -> bool:
    """Whether a refusal is owed to reservations still in flight rather than to spend."""
    return (
        isinstance(refusal, BudgetRefusal)
        and refusal.in_flight > 0
        and refusal.settled + refusal.requested <= refusal.limit
    )


def admitted(
    body: dict[str, Any],
    headers: dict[str, str],
    notes: list[str],
    hold: Hold | None,
    effort: str | None,
) -> Admission:
    if notes:
        headers["x-tokenwise-budget"] = "; ".join(notes)
    return Admission(body, headers, hold, effort)
