"""Reserve, settle and expire over a synchronous repository of counters.

`MemoryStore` and `SQLiteStore` both run these functions, inside whatever makes one call atomic
for them (no await for memory, a `BEGIN IMMEDIATE` transaction for SQLite). `RedisStore` runs the
same logic in Lua (`redis_lua.py`) and shares `plan_budget` and the refusal builders.

A counter is `(scope, period) -> (settled, in_flight)` in micro-dollars; see `windows.py` for
periods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from router.store.base import (
    BudgetRecord,
    BudgetRefusal,
    RateRule,
    ReserveResult,
    SpendView,
)
from router.store.rules import (
    check_reserve,
    micros_down,
    micros_up,
    minute_of,
    rate_refusal,
    unique,
    usd,
)
from router.store.windows import retain_until, view_periods, window_bounds


@dataclass(frozen=True)
class BudgetPlan:
    """A budget as it applies at one moment: which periods count and where new spend goes."""

    scope: str
    hard: bool
    limit: int  # micro-dollars
    periods: tuple[str, ...]
    retain: float  # when the current period's counters may be dropped
    start: float
    end: float | None

    @property
    def current(self) -> str:
        return self.periods[-1]


def plan_budget(budget: BudgetRecord, now: float) -> BudgetPlan:
    start, end = window_bounds(budget.window, budget.tz, now)
    return BudgetPlan(
        scope=budget.scope,
        hard=budget.hard,
        limit=micros_down(budget.limit_usd),
        periods=view_periods(budget.window, budget.tz, now),
        retain=retain_until(budget.window, budget.tz, now),
        start=start,
        end=None if math.isinf(end) else end,
    )


def budget_refusal(plan: BudgetPlan, settled: int, in_flight: int, need: int) -> BudgetRefusal:
    return BudgetRefusal(
        scope=plan.scope,
        settled=usd(settled),
        in_flight=usd(in_flight),
        limit=usd(plan.limit),
        requested=usd(need),
        resets_at=plan.end,
    )


def spend_view(plan: BudgetPlan, settled: int, in_flight: int) -> SpendView:
    return SpendView(
        plan.scope, usd(settled), usd(in_flight), usd(plan.limit), plan.start, plan.end
    )


@dataclass(frozen=True)
class Held:
    scope: str
    period: str
    micros: int
    retain: float


@dataclass(frozen=True)
class Reservation:
    request_id: str
    lease_end: float
    entries: tuple[Held, ...]


class Repo(Protocol):
    def budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]: ...
    def counters(self, scope: str, periods: Sequence[str]) -> tuple[int, int]: ...
    def add_counter(
        self, scope: str, period: str, settled: int, in_flight: int, retain: float
    ) -> None: ...
    def rate(self, scope: str, minute: int) -> tuple[int, int]: ...
    def add_rate(self, scope: str, minute: int, tokens: int) -> None: ...
    def reservation(self, request_id: str) -> Reservation | None: ...
    def put_reservation(self, reservation: Reservation) -> None: ...
    def drop_reservation(self, request_id: str) -> None: ...
    def ended_leases(self, now: float) -> list[Reservation]: ...
    def prune(self, now: float) -> None: ...


def plans(repo: Repo, scopes: Sequence[str], now: float) -> list[BudgetPlan]:
    found = repo.budgets(unique(scopes))
    return [plan_budget(found[s], now) for s in unique(scopes) if s in found]


def reserve(
    repo: Repo,
    request_id: str,
    scopes: Sequence[str],
    amount: Decimal,
    lease_seconds: float,
    now: float,
    minimum: Decimal | None,
    rate: Sequence[RateRule],
    tokens: int,
) -> ReserveResult:
    check_reserve(amount, minimum, lease_seconds, tokens)
    if repo.reservation(request_id) is not None:
        raise ValueError(f"reservation {request_id!r} is already in flight")
    minute = minute_of(now)
    for rule in rate:
        refusal = rate_refusal(rule, *repo.rate(rule.scope, minute), tokens, minute)
        if refusal is not None:
            return ReserveResult(False, refusal=refusal)
    want = micros_up(amount)
    need = want if minimum is None else micros_up(minimum)
    grant = want
    budget_plans = plans(repo, scopes, now)
    for plan in budget_plans:
        settled, in_flight = repo.counters(plan.scope, plan.periods)
        room = plan.limit - settled - in_flight
        if plan.hard and room < want:
            if room < need:
                return ReserveResult(False, refusal=budget_refusal(plan, settled, in_flight, need))
            grant = min(grant, room)
    for rule in rate:
        repo.add_rate(rule.scope, minute, tokens)
    entries = tuple(Held(p.scope, p.current, grant, p.retain) for p in budget_plans)
    for held in entries:
        repo.add_counter(held.scope, held.period, 0, held.micros, held.retain)
    if entries:
        repo.put_reservation(Reservation(request_id, now + lease_seconds, entries))
    return ReserveResult(True, reserved=usd(grant))


def settle(repo: Repo, request_id: str, actual: int | None) -> bool:
    """Settle at `actual` micro-dollars, or at the reserved amount when None."""
    found = repo.reservation(request_id)
    if found is None:
        return False
    for held in found.entries:
        spent = held.micros if actual is None else actual
        repo.add_counter(held.scope, held.period, spent, -held.micros, held.retain)
    repo.drop_reservation(request_id)
    return True


def expire(repo: Repo, now: float) -> int:
    ended = repo.ended_leases(now)
    for reservation in ended:
        settle(repo, reservation.request_id, None)
    repo.prune(now)
    return len(ended)


def spend(repo: Repo, scope: str, now: float) -> SpendView | None:
    found = plans(repo, [scope], now)
    if not found:
        return None
    return spend_view(found[0], *repo.counters(scope, found[0].periods))


def max_affordable(repo: Repo, scopes: Sequence[str], now: float) -> Decimal | None:
    rooms = []
    for plan in plans(repo, scopes, now):
        if plan.hard:
            settled, in_flight = repo.counters(plan.scope, plan.periods)
            rooms.append(plan.limit - settled - in_flight)
    return usd(max(0, min(rooms))) if rooms else None
