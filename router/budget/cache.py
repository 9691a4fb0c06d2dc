"""Budget records and soft-budget spend views, read from the store at most every few seconds.

The request path needs to know, before reserving, whether any budget applies at all (requests
of a key and team with neither budgets nor rate limits skip the store), whether a hard one does
(to bound the output) and how far soft budgets are used (to switch policy). All three are read
through this cache, refreshed after `budgets.refresh_seconds`. The records also go to `reserve`
(`known`): the memory and SQLite stores read their own atomically, so there a changed limit
counts at once; the Redis store uses them to spare a round trip, so there a limit changed on
another replica counts within the refresh time. The counters (settled, in flight) are always
read and changed atomically in the store; the cached spend views add this process's own
settlements as they start (`note_spend`), so only other processes' spend waits for a refresh.
A budget on a scope that had none starts counting on this process within the refresh time (at
once when it was set through this process's admin API).

While the store cannot be reached, `last_known` answers from what was last seen (the cached
records, else the list of budgeted scopes read at start-up and every upkeep round), so a
request that no budget and no rate limit applies to is served through an outage.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TypeVar

from router.budget.flight import Gate, SingleFlight
from router.store.base import BudgetRecord, SpendView, Store

MAX_ENTRIES = 50_000
T = TypeVar("T")


class Expiring(dict[str, tuple[T | None, float]]):
    def fresh(self, scope: str, now: float, ttl: float) -> bool:
        hit = self.get(scope)
        return hit is not None and now - hit[1] < ttl

    def put(self, scope: str, value: T | None, now: float) -> None:
        if len(self) >= MAX_ENTRIES:
            self.clear()
        self[scope] = (value, now)


class BudgetCache:
    def __init__(
        self,
        store: Store,
        gate: Gate,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.gate = gate
        self.ttl = ttl
        self.clock = clock
        self._fetching: SingleFlight[tuple[str, ...], dict[str, BudgetRecord]] = SingleFlight()
        self._viewing: SingleFlight[str, SpendView | None] = SingleFlight()
        self._budgets: Expiring[BudgetRecord] = Expiring()
        self._views: Expiring[SpendView] = Expiring()
        self.budgeted: frozenset[str] | None = None  # every scope with a budget, when known

    async def budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]:
        now = self.clock()
        stale = tuple(s for s in scopes if not self._budgets.fresh(s, now, self.ttl))
        if stale:
            found = await self._fetching.run(stale, lambda: self._fetch(stale))
            for scope in stale:
                self._budgets.put(scope, found.get(scope), now)
        return {s: b for s in scopes if (b := self._budgets[s][0]) is not None}

    async def _fetch(self, scopes: tuple[str, ...]) -> dict[str, BudgetRecord]:
        return await self.gate.call(lambda: self.store.get_budgets(scopes))

    async def refresh_scopes(self) -> None:
        """Learn which scopes have a budget at all (at start-up and every upkeep round)."""
        budgets = await self.gate.call(self.store.list_budgets)
        self.budgeted = frozenset(b.scope for b in budgets)

    def last_known(self, scopes: Sequence[str]) -> dict[str, BudgetRecord] | None:
        """The budgets of `scopes` as last seen, however old; None when unknown."""
        known: dict[str, BudgetRecord] = {}
        for scope in scopes:
            hit = self._budgets.get(scope)
            if hit is not None:
                if hit[0] is not None:
                    known[scope] = hit[0]
            elif self.budgeted is None or scope in self.budgeted:
                return None
        return known

    async def views(self, scopes: Sequence[str], at: float) -> dict[str, SpendView]:
        now = self.clock()
        for scope in scopes:
            if not self._views.fresh(scope, now, self.ttl):
                view = await self._viewing.run(scope, self._spend(scope, at))
                self._views.put(scope, view, now)
        return {s: v for s in scopes if (v := self._views[s][0]) is not None}

    def _spend(self, scope: str, at: float) -> Callable[[], Awaitable[SpendView | None]]:
        return lambda: self.gate.call(lambda: self.store.spend(scope, at))

    def note_spend(self, scopes: Sequence[str], cost: Decimal) -> None:
        """This process just spent `cost` on `scopes`: the cached spend views count it at once,
        so a soft threshold crossed by this process's own requests switches the next one (other
        processes' spend still counts within the refresh time)."""
        if cost <= 0:
            return
        for scope in scopes:
            view, when = self._views.get(scope, (None, 0.0))
            if view is not None:
                self._views[scope] = (replace(view, settled=view.settled + cost), when)

    def forget(self, scope: str | None = None) -> None:
        """Drop a scope (or everything): it was just changed in this process."""
        if scope is None:
            self._budgets.clear()
            self._views.clear()
        else:
            self._budgets.pop(scope, None)
            self._views.pop(scope, None)
