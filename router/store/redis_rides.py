"""Script calls that need no round trip of their own ride on the next settlement's.

A ledger batch is written off the response path, and under load a settlement goes to Redis
every millisecond or so. `Rides.wait()` queues a script call; the next settlement's pipeline
carries it (`board`, then `land` with its replies), so the ledger costs no round trip of its own.
When no settlement comes within `WAIT` seconds (no budgets, little traffic), the queued calls go
alone.

A ride whose pipeline is cancelled (its settlement timed out) is queued again; one whose
pipeline fails gets the failure, so its caller backs off as it would have alone. A ride sent
twice writes nothing twice: the ledger script skips records already there (HSETNX).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError

from router.store.redis_wire import Commands

WAIT = 0.02  # seconds a queued call waits for a settlement before it goes alone


@dataclass(frozen=True)
class Ride:
    sha: str
    keys: Sequence[str]
    args: Sequence[str]
    reply: asyncio.Future[Any]


class Rides:
    def __init__(self, alone: Callable[[], Awaitable[object]]) -> None:
        self._alone = alone  # one round trip carrying only what is queued
        self._queue: list[Ride] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    def __len__(self) -> int:
        return len(self._queue)

    async def wait(self, sha: str, keys: Sequence[str], args: Sequence[str]) -> Any:
        """Queue one script call; its reply once a round trip has carried it."""
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(Ride(sha, keys, args, reply))
        self._arm()
        return await reply

    def board(self, pipe: Commands) -> list[Ride]:
        """Add every queued call to `pipe`; the caller hands back their replies to `land`."""
        rides = [ride for ride in self._queue if not ride.reply.done()]
        self._queue = []
        self._disarm()
        for ride in rides:
            pipe.evalsha(ride.sha, len(ride.keys), *ride.keys, *ride.args)
        return rides

    def land(self, rides: Sequence[Ride], replies: Sequence[object]) -> bool:
        """Give each ride its reply; True when one found its script missing (queued again)."""
        missing = []
        for ride, reply in zip(rides, replies, strict=True):
            if isinstance(reply, NoScriptError):
                missing.append(ride)
            elif ride.reply.done():
                continue
            elif isinstance(reply, Exception):
                ride.reply.set_exception(reply)
            else:
                ride.reply.set_result(reply)
        self.missed(missing)
        return bool(missing)

    def missed(self, rides: Sequence[Ride]) -> None:
        """Their round trip did not happen (cancelled, or the scripts were missing): queue them
        again, ahead of newer calls."""
        live = [ride for ride in rides if not ride.reply.done()]
        if live:
            self._queue[:0] = live
            self._arm()

    def fail(self, rides: Sequence[Ride], exc: BaseException) -> None:
        for ride in rides:
            if not ride.reply.done():
                ride.reply.set_exception(exc)

    def close(self, exc: BaseException) -> None:
        """The store closes: what is still queued fails with `exc`."""
        self._disarm()
        self.fail(self._queue, exc)
        self._queue = []

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(WAIT, self._go_alone)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _go_alone(self) -> None:
        self._timer = None
        if self._queue:
            task = asyncio.get_running_loop().create_task(self._send_alone())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send_alone(self) -> object:
        try:
            return await self._alone()
        except Exception:  # the rides carried their failure to their callers
            return None
