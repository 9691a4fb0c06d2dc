"""Group commit in the SQLite store: writes made together commit together, each on its own.

The store's own connection is traced (`set_trace_callback`), so the test sees the statements
SQLite really ran: fewer transactions than writes, every write counted once, and a write that
fails inside a batch rolled back alone while its neighbours commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from router.store.base import BudgetRecord, StoreUnavailable, TeamRecord
from router.store.sqlite import SQLiteStore

T0 = 1_710_000_000.0
D = Decimal


async def test_concurrent_writes_share_transactions_and_each_stays_atomic(tmp_path: Path) -> None:
    store = await SQLiteStore(tmp_path / "store.db").open()
    try:
        await store.put_team(TeamRecord("research", T0))
        await store.put_budget(BudgetRecord("team:research", D(100), "total"))
        statements: list[str] = []
        conn = store._conn
        assert conn is not None
        await store._call(lambda: conn.set_trace_callback(statements.append))  # its own thread

        async def reserve(i: int) -> bool:
            return (await store.reserve(f"r{i}", ["team:research"], D(1), 60, T0)).ok

        duplicate = store.reserve("r0", ["team:research"], D(1), 60, T0)  # r0 is in flight
        results = await asyncio.gather(
            *(reserve(i) for i in range(40)), duplicate, return_exceptions=True
        )
        assert results[:40] == [True] * 40
        assert isinstance(results[40], ValueError)
        commits = sum(1 for s in statements if s == "COMMIT")
        assert 1 <= commits < 40
        assert sum(1 for s in statements if s.startswith("ROLLBACK TO")) == 1
        view = await store.spend("team:research", T0)
        assert view is not None and view.in_flight == D(40)

        settled = await asyncio.gather(
            *(store.settle(f"r{i}", D("0.5"), T0 + 1) for i in range(40))
        )
        assert settled == [True] * 40
        view = await store.spend("team:research", T0 + 1)
        assert view is not None and (view.settled, view.in_flight) == (D(20), D(0))
    finally:
        await store.close()


async def test_a_write_after_close_is_refused(tmp_path: Path) -> None:
    store = await SQLiteStore(tmp_path / "store.db").open()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.put_team(TeamRecord("research", T0))


async def test_a_batch_that_cannot_take_the_lock_fails_every_write_in_it(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await SQLiteStore(path, busy_timeout=0.1).open()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await store.put_team(TeamRecord("research", T0))
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        results = await asyncio.gather(
            *(store.put_team(TeamRecord(f"t{i}", T0)) for i in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, StoreUnavailable) for r in results), results
        other.execute("ROLLBACK")
        await store.put_team(TeamRecord("after", T0))  # the next batch works again
        assert [t.name for t in await store.list_teams()] == ["after", "research"]
    finally:
        other.close()
        await store.close()
