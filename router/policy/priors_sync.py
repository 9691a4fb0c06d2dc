"""Keeping the learned token figures in the store while serving (router.policy.priors).

Every `SYNC_SECONDS`, when something was learned, and once more at shutdown: read what the
store holds, add this process's movement since its last sync (`TokenPriors.merge`), write the
result. A store that does not answer is logged and tried again at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from router.policy.priors import NAMESPACE, SYNC_SECONDS, TokenPriors
from router.store.base import Store

log = logging.getLogger("tokenwise.routing")


async def sync(priors: TokenPriors, store: Store) -> None:
    stored = await store.get_state(NAMESPACE)
    await store.put_state(NAMESPACE, priors.merge(stored))


async def _sync_now(priors: TokenPriors, store: Store) -> None:
    try:
        await sync(priors, store)
    except Exception as exc:  # the store is down: the figures wait in memory
        log.warning("routing: learned token figures not saved (%s); trying again later", exc)


async def _every(priors: TokenPriors, store: Store, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        if priors.dirty:
            await _sync_now(priors, store)


class PriorsSync:
    """The sync task, started with the app and stopped (after a last sync) at shutdown."""

    def __init__(self, priors: TokenPriors, store: Store, seconds: float = SYNC_SECONDS) -> None:
        self.priors = priors
        self.store = store
        self._task = asyncio.get_running_loop().create_task(
            _every(priors, store, seconds), name="priors-sync"
        )

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.priors.dirty:
            await _sync_now(self.priors, self.store)
