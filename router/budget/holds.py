"""Settling reservations: once per request, on every exit path, surviving cancellation.

`Hold` is one request's reservation. `Exchange.close()` calls `closing(cost)` (journal first),
writes the ledger record, then `settle(cost)`: the store call runs in a task of its own, so the
response does not wait for it and a request cancelled meanwhile (a client that leaves) still
settles; shutting down waits for these tasks (`drain`). A settlement the store refuses to take
(down, slow) is kept and retried by the upkeep loop until the lease has ended; after that
`expire` has counted the reservation at what it held.

A request admitted while the store was down (fail open) has no reservation: its cost is counted
by `recovery.reconcile` once the store answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from router.budget.carry import Carry
from router.budget.flight import Gate, StoreTimeout
from router.budget.journal import Journal
from router.budget.metrics import BudgetMetrics
from router.budget.recovery import Open, reconcile
from router.store.base import Store

log = logging.getLogger("tokenwise.budget")

RETRY_GRACE = 30.0  # seconds past the lease a failed settlement is still retried


class Settler:
    def __init__(self, store: Store, journal: Journal, metrics: BudgetMetrics, gate: Gate) -> None:
        self.store = store
        self.journal = journal
        self.metrics = metrics
        self.gate = gate
        self._live: dict[str, list[dict[str, Any]]] = {}
        self._retry: dict[str, tuple[Decimal, float, bool]] = {}
        self._reconcile: dict[str, tuple[Open, Decimal]] = {}
        self._reconciling: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.carry = Carry()  # sub-micro-dollar remainders (router.budget.carry)
        self.on_spent: Callable[[Sequence[str], Decimal], None] | None = None
        """Told each settlement's scopes and cost as it starts (the budget cache's views)."""

    def note(self, rid: str, entry: dict[str, Any]) -> None:
        """Journal one event of an unfinished request."""
        self.journal.write(entry)
        self._live.setdefault(rid, []).append(entry)

    def done(self, rid: str) -> None:
        if self._live.pop(rid, None) is not None:
            self.journal.write({"t": "s", "id": rid})

    @property
    def in_flight(self) -> int:
        return len(self._live)

    @property
    def pending(self) -> int:
        return len(self._retry) + len(self._reconcile)

    def live_entries(self) -> list[dict[str, Any]]:
        return [entry for entries in self._live.values() for entry in entries]

    def settle(self, rid: str, cost: Decimal, lease_end: float) -> None:
        """Settle in the background (the response does not wait for the store)."""
        self._start(rid, cost, lease_end, journal=True)

    def release(self, rid: str, cost: Decimal, lease_end: float, *, journal: bool) -> None:
        """Settle in the background a reservation nobody waits for any more."""
        self._start(rid, cost, lease_end, journal=journal)

    def _start(
        self, rid: str, cost: Decimal, lease_end: float, *, journal: bool
    ) -> asyncio.Task[None]:
        work = self._settle(rid, cost, lease_end, journal)
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _settle(self, rid: str, cost: Decimal, lease_end: float, journal: bool) -> None:
        try:
            await self.gate.call(lambda: self.store.settle(rid, cost, time.time()))
        except Exception as exc:  # the store is down or slow: retried by the upkeep loop
            self.metrics.store_errors.labels("settle").inc()
            log.warning("budget: settling %s failed (%r); will retry", rid, exc)
            self._retry[rid] = (cost, lease_end + RETRY_GRACE, journal)
            self.metrics.pending_settles.set(self.pending)
            return
        if journal:
            self.done(rid)

    def reconcile_later(self, rid: str, item: Open, cost: Decimal) -> None:
        self._reconcile[rid] = (item, cost)
        self.metrics.pending_settles.set(self.pending)

    async def retry(self) -> None:
        """Retry failed settlements and reconcile fail-open spend (the upkeep loop calls it)."""
        now = time.time()
        for rid, (cost, until, journal) in list(self._retry.items()):
            if now > until:
                log.warning("budget: gave up settling %s; its lease counted it", rid)
            else:
                try:
                    await self.gate.call(partial(self.store.settle, rid, cost, now))
                except Exception:
                    break  # still down: try again next round
            del self._retry[rid]
            if journal:
                self.done(rid)
        self._reconcile_round()
        self.metrics.pending_settles.set(self.pending)

    def _reconcile_round(self) -> None:
        """Finish reconciliations that ended well; start one for each of the others. Never two
        at once for one request: a reconciliation counts spend, twice would count it twice."""
        for rid, (item, cost) in list(self._reconcile.items()):
            running = self._reconciling.get(rid)
            if running is not None and not running.done():
                continue
            if running is not None and not running.cancelled() and running.exception() is None:
                del self._reconcile[rid], self._reconciling[rid]
                self.done(rid)
                continue
            attempt = self._reconcile_once(item, cost)
            self._reconciling[rid] = asyncio.get_running_loop().create_task(attempt)

    async def _reconcile_once(self, item: Open, cost: Decimal) -> None:
        try:
            await self.gate.call(partial(reconcile, self.store, item, cost))
        except StoreTimeout as slow:  # still running: this attempt ends when it does
            await asyncio.shield(slow.call)

    async def drain(self) -> None:
        """Wait for settlements under way; stop waiting for reconciliations (shutdown: the
        journal keeps them for the next start)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for running in self._reconciling.values():
            running.cancel()
        await asyncio.gather(*self._reconciling.values(), return_exceptions=True)


@dataclass
class Hold:
    """One request's reservation (or, `open`, its admission without one)."""

    rid: str
    granted: Decimal
    lease_end: float
    settler: Settler
    pending: dict[str, Any]
    open: bool = False
    finished: bool = field(default=False, init=False)

    def closing(self, cost: Decimal) -> None:
        """Journal the request's cost before anything else records it."""
        if not self.finished:
            self.settler.note(self.rid, {"t": "c", "id": self.rid, "cost": str(cost)})

    async def settle(self, cost: Decimal) -> None:
        """Settle at `cost`, once; the store call runs in a task of its own, so neither the
        response nor a cancellation of the request waits for it or stops it."""
        if self.finished:
            return
        self.finished = True
        if self.settler.on_spent is not None:
            scopes = self.pending.get("scopes")
            if isinstance(scopes, list):
                self.settler.on_spent([str(s) for s in scopes], cost)
        scopes = self.pending.get("scopes")
        if isinstance(scopes, list):
            cost = self.settler.carry.counted([str(s) for s in scopes], cost)
        if self.open:
            item = Open(self.pending, cost=cost)
            item.pending["open"] = True
            self.settler.reconcile_later(self.rid, item, cost)
            return
        self.settler.settle(self.rid, cost, self.lease_end)
