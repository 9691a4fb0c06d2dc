"""Gauges read from the store when Prometheus scrapes, not kept up to date on the request path.

Budget remaining is the store's figure (limit - settled - in flight in the current window), so
every replica reports the same number whatever requests it served. The ledger backlog is this
process's count of records spooled but not yet stored. A slow or unreachable store never holds
a scrape for long: the budget gauges keep their last values and the exposition goes out. A
budget deleted from the store leaves the exposition at the next scrape.
"""

from __future__ import annotations

import asyncio
import logging
import time

from router.observability.metrics import Metrics
from router.store.base import Store

log = logging.getLogger("tokenwise.metrics")

STORE_TIMEOUT = 1.0  # seconds a scrape waits for the store
MAX_BUDGETS = 1000  # budgets refreshed per scrape


async def refresh_gauges(metrics: Metrics, store: Store, backlog: int) -> None:
    metrics.backlog(backlog)
    try:
        async with asyncio.timeout(STORE_TIMEOUT):
            await _budgets(metrics, store, time.time())
    except TimeoutError:
        log.warning(
            "metrics: the store took over %.1fs; budget gauges not refreshed", STORE_TIMEOUT
        )
    except Exception as exc:  # the store is down: the rest of the exposition still goes out
        log.warning("metrics: budget gauges not refreshed: %s", exc)


async def _budgets(metrics: Metrics, store: Store, now: float) -> None:
    budgets = await store.list_budgets()
    if len(budgets) > MAX_BUDGETS:
        log.warning(
            "metrics: %d budgets; the gauge shows the first %d by scope",
            len(budgets),
            MAX_BUDGETS,
        )
    remaining = {}
    for budget in sorted(budgets, key=lambda b: b.scope)[:MAX_BUDGETS]:
        view = await store.spend(budget.scope, now)
        if view is not None:
            remaining[budget.scope] = view.remaining
    metrics.budgets(remaining)
