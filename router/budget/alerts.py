"""Soft-threshold alerts: a metric and an optional webhook, once per budget window per process.

The webhook (`budgets.webhook_url`) receives a JSON POST:

    {"event": "budget.soft_threshold", "scope": "team:research", "team": "research",
     "used_usd": "8.1", "limit_usd": "10", "threshold": "0.8", "policy": "economy",
     "window_start": "2026-11-01T00:00:00Z"}

It is sent in the background with a 5-second timeout and no retry; a failure is logged. Each
replica that sees the crossing sends it once, so a deployment of N replicas may send it N times.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from router.budget.metrics import BudgetMetrics
from router.budget.refusals import iso
from router.budget.soft import SoftState
from router.metering.cost import format_usd

log = logging.getLogger("tokenwise.budget")

WEBHOOK_TIMEOUT = 5.0
MAX_REMEMBERED = 10_000


class Alerts:
    def __init__(self, metrics: BudgetMetrics, webhook_url: str | None) -> None:
        self.metrics = metrics
        self.webhook_url = webhook_url
        self._seen: set[tuple[str, float]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    def crossed(self, state: SoftState, team: str) -> bool:
        """Count a crossing once per window; True the first time."""
        key = (state.scope, state.period_start)
        if key in self._seen:
            return False
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()
        self._seen.add(key)
        self.metrics.soft_alerts.labels(team).inc()
        log.warning(
            "budget: %s has used %s of %s (threshold %s); switching to %s",
            state.scope,
            format_usd(state.used),
            format_usd(state.limit),
            state.threshold,
            state.policy or "(no policy)",
        )
        if self.webhook_url is not None:
            task = asyncio.get_running_loop().create_task(self._post(state, team))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return True

    async def _post(self, state: SoftState, team: str) -> None:
        assert self.webhook_url is not None
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
            )
        payload = {
            "event": "budget.soft_threshold",
            "scope": state.scope,
            "team": team,
            "used_usd": format_usd(state.used),
            "limit_usd": format_usd(state.limit),
            "threshold": str(state.threshold),
            "policy": state.policy,
            "window_start": iso(state.period_start),
        }
        try:
            async with self._session.post(self.webhook_url, json=payload) as resp:
                if resp.status >= 400:
                    log.warning("budget webhook answered %d", resp.status)
                else:
                    self.sent += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("budget webhook failed: %r", exc)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
