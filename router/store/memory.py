"""`MemoryStore`: the store in a process's memory, for tests and throwaway runs.

Every method runs without awaiting anything in between its reads and writes, so on one event
loop each call is atomic without a lock. It is not shared between processes or threads.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from router.store import accounting, ledger
from router.store.accounting import Reservation
from router.store.base import (
    BudgetRecord,
    GroupBy,
    KeyRecord,
    LedgerRecord,
    LedgerTotal,
    RateRule,
    ReserveResult,
    SpendView,
    TeamRecord,
)
from router.store.rules import (
    RATE_WINDOW,
    check_budget_owner,
    check_key,
    scope_owner,
    settle_micros,
)


class MemoryCounters:
    """The `accounting.Repo` over dictionaries."""

    def __init__(self) -> None:
        self.budget_records: dict[str, BudgetRecord] = {}
        self.counter_rows: dict[tuple[str, str], tuple[int, int, float]] = {}
        self.rate_rows: dict[tuple[str, int], tuple[int, int]] = {}
        self.reservations: dict[str, Reservation] = {}

    def budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]:
        return {s: self.budget_records[s] for s in scopes if s in self.budget_records}

    def counters(self, scope: str, periods: Sequence[str]) -> tuple[int, int]:
        rows = [self.counter_rows.get((scope, p), (0, 0, 0.0)) for p in periods]
        return sum(r[0] for r in rows), sum(r[1] for r in rows)

    def add_counter(
        self, scope: str, period: str, settled: int, in_flight: int, retain: float
    ) -> None:
        old = self.counter_rows.get((scope, period), (0, 0, retain))
        self.counter_rows[scope, period] = (old[0] + settled, old[1] + in_flight, old[2])

    def rate(self, scope: str, minute: int) -> tuple[int, int]:
        return self.rate_rows.get((scope, minute), (0, 0))

    def add_rate(self, scope: str, minute: int, tokens: int) -> None:
        requests, used = self.rate(scope, minute)
        self.rate_rows[scope, minute] = (requests + 1, used + tokens)

    def reservation(self, request_id: str) -> Reservation | None:
        return self.reservations.get(request_id)

    def put_reservation(self, reservation: Reservation) -> None:
        self.reservations[reservation.request_id] = reservation

    def drop_reservation(self, request_id: str) -> None:
        self.reservations.pop(request_id, None)

    def ended_leases(self, now: float) -> list[Reservation]:
        return [r for r in self.reservations.values() if r.lease_end <= now]

    def prune(self, now: float) -> None:
        for counter in [k for k, row in self.counter_rows.items() if row[2] < now]:
            del self.counter_rows[counter]
        for rate in [k for k in self.rate_rows if k[1] + 2 * RATE_WINDOW < now]:
            del self.rate_rows[rate]


class MemoryStore:
    def __init__(self) -> None:
        self._teams: dict[str, TeamRecord] = {}
        self._keys: dict[str, KeyRecord] = {}
        self._by_hash: dict[str, str] = {}
        self._counters = MemoryCounters()
        self._ledger: dict[str, LedgerRecord] = {}
        self._state: dict[str, dict[str, str]] = {}
        self._state_expiry: dict[str, float] = {}  # namespace -> when it expires
        self._state_deadlines: list[tuple[float, str]] = []  # a heap; stale entries skipped

    async def open(self) -> MemoryStore:
        return self

    async def close(self) -> None:
        return None

    async def get_state(self, namespace: str) -> dict[str, str]:
        self._purge_state(time.time())
        return dict(self._state.get(namespace, {}))

    async def put_state(
        self, namespace: str, values: Mapping[str, str], ttl_seconds: float | None = None
    ) -> None:
        now = time.time()
        self._purge_state(now)
        if ttl_seconds is not None and ttl_seconds <= 0:
            self._state.pop(namespace, None)
            self._state_expiry.pop(namespace, None)
            return
        self._state.setdefault(namespace, {}).update(values)
        if ttl_seconds is not None:
            self._state_expiry[namespace] = deadline = now + ttl_seconds
            heapq.heappush(self._state_deadlines, (deadline, namespace))

    def _purge_state(self, now: float) -> None:
        deadlines = self._state_deadlines
        while deadlines and deadlines[0][0] <= now:
            deadline, namespace = heapq.heappop(deadlines)
            if self._state_expiry.get(namespace) == deadline:  # not renewed since
                del self._state_expiry[namespace]
                self._state.pop(namespace, None)

    async def put_team(self, team: TeamRecord) -> None:
        self._teams[team.name] = team

    async def get_team(self, name: str) -> TeamRecord | None:
        return self._teams.get(name)

    async def list_teams(self) -> list[TeamRecord]:
        return [self._teams[n] for n in sorted(self._teams)]

    async def delete_team(self, name: str) -> bool:
        if self._teams.pop(name, None) is None:
            return False
        budgets = self._counters.budget_records
        budgets.pop(f"team:{name}", None)
        for key in [k for k in self._keys.values() if k.team == name]:
            del self._keys[key.key_id]
            del self._by_hash[key.key_sha256]
            budgets.pop(f"key:{key.key_id}", None)
        return True

    async def put_key(self, key: KeyRecord) -> None:
        old = self._keys.get(key.key_id)
        check_key(key, key.team in self._teams, old, self._by_hash.get(key.key_sha256))
        if old is not None:
            del self._by_hash[old.key_sha256]
        self._keys[key.key_id] = key
        self._by_hash[key.key_sha256] = key.key_id

    async def get_key(self, key_id: str) -> KeyRecord | None:
        return self._keys.get(key_id)

    async def key_by_hash(self, key_sha256: str) -> KeyRecord | None:
        key_id = self._by_hash.get(key_sha256)
        return None if key_id is None else self._keys[key_id]

    async def list_keys(self, team: str | None = None) -> list[KeyRecord]:
        keys = [k for k in self._keys.values() if team is None or k.team == team]
        return sorted(keys, key=lambda k: (k.team, k.key_id))

    async def revoke_key(self, key_id: str) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        self._keys[key_id] = replace(key, revoked=True)
        return True

    async def put_budget(self, budget: BudgetRecord) -> None:
        owner = scope_owner(budget.scope)
        name = owner[1] if owner else ""
        check_budget_owner(budget.scope, name in self._teams, name in self._keys)
        self._counters.budget_records[budget.scope] = budget

    async def get_budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]:
        return self._counters.budgets(scopes)

    async def list_budgets(self) -> list[BudgetRecord]:
        budgets = self._counters.budget_records
        return [budgets[s] for s in sorted(budgets)]

    async def delete_budget(self, scope: str) -> bool:
        return self._counters.budget_records.pop(scope, None) is not None

    async def reserve(
        self,
        request_id: str,
        scopes: Sequence[str],
        amount: Decimal,
        lease_seconds: float,
        now: float,
        *,
        minimum: Decimal | None = None,
        rate: Sequence[RateRule] = (),
        tokens: int = 0,
        known: Mapping[str, BudgetRecord] | None = None,  # read here, atomically
    ) -> ReserveResult:
        return accounting.reserve(
            self._counters, request_id, scopes, amount, lease_seconds, now, minimum, rate, tokens
        )

    async def max_affordable(self, scopes: Sequence[str], now: float) -> Decimal | None:
        return accounting.max_affordable(self._counters, scopes, now)

    async def settle(self, request_id: str, actual: Decimal, now: float) -> bool:
        return accounting.settle(self._counters, request_id, settle_micros(actual))

    async def expire(self, now: float) -> int:
        self._purge_state(now)
        return accounting.expire(self._counters, now)

    async def spend(self, scope: str, now: float) -> SpendView | None:
        return accounting.spend(self._counters, scope, now)

    async def append_ledger(self, records: Sequence[LedgerRecord]) -> int:
        fresh = [r for r in ledger.new_records(records) if r.request_id not in self._ledger]
        self._ledger.update((r.request_id, r) for r in fresh)
        return len(fresh)

    async def query_ledger(
        self,
        team: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[LedgerRecord]:
        ledger.check_limit(limit)
        return ledger.select(self._ledger.values(), team, since, until, limit)

    async def ledger_totals(
        self, group_by: GroupBy, since: float | None = None, until: float | None = None
    ) -> list[LedgerTotal]:
        group = ledger.check_group_by(group_by)
        return ledger.totals(ledger.select(self._ledger.values(), None, since, until, None), group)
