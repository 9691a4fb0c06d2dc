"""Group commit for the SQLite store: the writes that queue up while one transaction runs go to
the store's thread together and commit in one transaction.

Under load every request makes two writes (reserve, settle) and each would cost a hop to the
store's thread and a commit of its own. Here a write joins a queue; when no batch is running,
the queue goes to the thread at the next turn of the event loop, and what queues meanwhile
waits for the next batch. A batch is one `BEGIN IMMEDIATE` ... `COMMIT`, each write inside its
own savepoint, so every write is still all or nothing on its own: one that raises is rolled
back to its savepoint and its caller gets the exception, the others commit. No caller hears of
its write before the batch has committed; when the transaction cannot start or commit (the
lock held past `busy_timeout`, a full disk), every caller in it gets `StoreUnavailable` and
nothing of it was written.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

R = TypeVar("R")
Work = Callable[[sqlite3.Connection], Any]
Outcome = tuple[bool, Any]  # (ok, result or exception)


class WriteBatcher:
    def __init__(
        self,
        executor: Executor,
        connection: Callable[[], sqlite3.Connection],
        unavailable: Callable[[sqlite3.Error], Exception],
    ) -> None:
        self._executor = executor
        self._connection = connection
        self._unavailable = unavailable
        self._queued: list[tuple[Work, asyncio.Future[Any]]] = []
        self._running: asyncio.Future[list[Outcome]] | None = None
        self._scheduled = False
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def write(self, work: Callable[[sqlite3.Connection], R]) -> R:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self._queued.append((work, done))
        self._quiet.clear()
        if self._running is None and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)
        return await done

    async def idle(self) -> None:
        """Wait until every queued write has committed (or failed)."""
        await self._quiet.wait()

    def _start(self) -> None:
        self._scheduled = False
        batch, self._queued = self._queued, []
        if not batch:
            self._quiet.set()
            return
        loop = asyncio.get_running_loop()
        works = [work for work, _ in batch]
        running = loop.run_in_executor(self._executor, self._commit, works)
        self._running = running
        running.add_done_callback(lambda ran: self._finished(ran, batch))

    def _finished(
        self, ran: asyncio.Future[list[Outcome]], batch: list[tuple[Work, asyncio.Future[Any]]]
    ) -> None:
        self._running = None
        error = None if ran.cancelled() else ran.exception()
        for index, (_, done) in enumerate(batch):
            if done.done():
                continue  # its caller stopped waiting; the write itself has run
            if ran.cancelled():
                done.cancel()
            elif error is not None:
                failure = self._unavailable(error) if isinstance(error, sqlite3.Error) else error
                done.set_exception(failure)
            else:
                ok, value = ran.result()[index]
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)
        if self._queued and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start)
        elif not self._queued:
            self._quiet.set()

    def _commit(self, works: list[Work]) -> list[Outcome]:
        """On the store's thread: one transaction, one savepoint per write."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        outcomes: list[Outcome] = []
        try:
            for work in works:
                conn.execute("SAVEPOINT tw_write")
                try:
                    value = work(conn)
                except sqlite3.OperationalError:
                    raise  # the database itself failed: the whole batch goes
                except Exception as exc:
                    conn.execute("ROLLBACK TO tw_write")
                    conn.execute("RELEASE tw_write")
                    outcomes.append((False, exc))
                    continue
                conn.execute("RELEASE tw_write")
                outcomes.append((True, value))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes
