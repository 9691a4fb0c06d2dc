"""Two guards for store calls made on the request path.

`SingleFlight`: concurrent callers asking for the same thing share one store call (a cold cache
under a burst of requests would otherwise send the same lookup once per request).

`Gate`: at most `limit` budget calls to the store at once; the others queue here instead of
opening ever more connections (redis-py refuses a connection past its pool's size, which would
look like an outage). A call has `timeout` seconds; the wait for a slot up to `WAIT_FACTOR`
times that, so a burst queueing behind a busy store is not taken for an outage. A call that
times out opens the gate's breaker for `COOLDOWN` seconds: until then calls fail at once instead
of queueing behind a store that stopped answering, then one round of calls tries again. Calls
are never cancelled: one the caller stopped waiting for runs on (`StoreTimeout.call`) and keeps
its slot, so a hung store holds at most `limit` connections of the budget path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from router.store.base import StoreUnavailable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

WAIT_FACTOR = 5
COOLDOWN = 1.0


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flying: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        flying = self._flying.get(key)
        if flying is None:
            flying = asyncio.ensure_future(fetch())
            self._flying[key] = flying
            flying.add_done_callback(lambda _: self._flying.pop(key, None))
        return await asyncio.shield(flying)


class StoreTimeout(TimeoutError):
    """The store did not answer in time; `call` is still running and may yet land."""

    def __init__(self, call: asyncio.Future[Any]) -> None:
        super().__init__("the store did not answer in time")
        self.call = call


class Gate:
    def __init__(
        self, limit: int, timeout: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._slots = asyncio.Semaphore(limit)
        self.timeout = timeout
        self.clock = clock
        self.open_until = 0.0

    def _check(self) -> None:
        if self.clock() < self.open_until:
            raise StoreUnavailable("the store stopped answering; retrying shortly")

    async def call(self, work: Callable[[], Awaitable[R]]) -> R:
        """Run `work` through the gate; StoreTimeout or StoreUnavailable when the store does
        not answer (see the module doc).

        A call is never cancelled halfway (a Redis pipeline cut mid-reply is left unusable):
        past the timeout the caller stops waiting, and the call keeps its slot until it ends.
        """
        self._check()
        if self._slots.locked():  # every slot taken: queue, for a while
            async with asyncio.timeout(self.timeout * WAIT_FACTOR):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # a free slot: taken at once, no timer needed
        try:
            self._check()
            running = asyncio.ensure_future(work())
        except BaseException:
            self._slots.release()
            raise
        running.add_done_callback(self._finished)
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.shield(running)
        except TimeoutError:
            self.open_until = self.clock() + COOLDOWN
            raise StoreTimeout(running) from None

    def _finished(self, running: asyncio.Future[Any]) -> None:
        self._slots.release()
        if not running.cancelled():
            running.exception()  # retrieved: an abandoned call's error is not "never retrieved"
