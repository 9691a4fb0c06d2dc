"""What /metrics shows of the store's budgets and of dead workers: a budget deleted from the
store leaves the exposition at the next scrape, a worker that died without its clean exit no
longer counts in the live gauges, and two servers on one home keep their files apart."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from router.observability.metrics import Metrics
from router.observability.multiproc import (
    ENV,
    DirectoryInUse,
    forget_dead,
    prepare_multiprocess_dir,
)
from router.observability.scrape import refresh_gauges
from router.store.base import BudgetRecord, TeamRecord
from router.store.sqlite import SQLiteStore


def budget_lines(metrics: Metrics) -> list[str]:
    text = metrics.exposition().decode()
    return [line for line in text.splitlines() if line.startswith("tokenwise_budget_remaining")]


def test_a_deleted_budget_leaves_the_exposition(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        store = await SQLiteStore(tmp_path / "state.db").open()
        try:
            metrics = Metrics()
            await store.put_team(TeamRecord("alpha", created_at=0.0))
            await store.put_team(TeamRecord("beta", created_at=0.0))
            await store.put_budget(BudgetRecord("team:alpha", Decimal("5"), window="day"))
            await store.put_budget(BudgetRecord("team:beta", Decimal("7"), window="day"))
            await refresh_gauges(metrics, store, backlog=0)
            before = budget_lines(metrics)
            assert await store.delete_budget("team:alpha")
            await refresh_gauges(metrics, store, backlog=0)
            return before, budget_lines(metrics)
        finally:
            await store.close()

    before, after = asyncio.run(scenario())
    assert before == [
        'tokenwise_budget_remaining_usd{scope="team:alpha"} 5.0',
        'tokenwise_budget_remaining_usd{scope="team:beta"} 7.0',
    ]
    assert after == ['tokenwise_budget_remaining_usd{scope="team:beta"} 7.0']


def test_a_dead_workers_live_gauges_are_forgotten(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(gone.stdout)
    alive = os.getpid()
    for name in (
        f"gauge_livesum_{dead}.db",
        f"gauge_livemax_{dead}.db",
        f"counter_{dead}.db",
        f"gauge_livesum_{alive}.db",
    ):
        (tmp_path / name).write_bytes(b"")
    assert forget_dead(tmp_path) == [dead]
    assert sorted(os.listdir(tmp_path)) == [f"counter_{dead}.db", f"gauge_livesum_{alive}.db"]
    assert forget_dead(tmp_path) == []


def test_a_second_server_on_the_same_home_takes_its_own_directory(tmp_path: Path) -> None:
    first_env: dict[str, str] = {}
    first = prepare_multiprocess_dir(tmp_path, first_env)
    (first / "counter_1.db").write_bytes(b"live")
    second_env: dict[str, str] = {}
    second = prepare_multiprocess_dir(tmp_path, second_env)
    assert first == tmp_path / "metrics" and second == tmp_path / "metrics-2"
    assert second_env[ENV] == str(second)
    assert (first / "counter_1.db").read_bytes() == b"live"  # the first server's files stay
    with pytest.raises(DirectoryInUse, match="in use by another running tokenwise serve"):
        prepare_multiprocess_dir(tmp_path, {ENV: str(first)})
