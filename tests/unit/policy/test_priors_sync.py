"""Learned token figures reach the store while serving, and several processes sharing it add
their learning up instead of overwriting each other's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from router.policy.priors import NAMESPACE, TokenPriors
from router.policy.priors_sync import PriorsSync, sync
from router.store.sqlite import SQLiteStore
from tests.unit.policy.test_decide import priors


def test_two_processes_add_their_learning_up(tmp_path: Path) -> None:
    async def scenario() -> tuple[TokenPriors, dict[str, str]]:
        store = await SQLiteStore(tmp_path / "state.db").open()
        try:
            seed = priors()
            seed.observe("mini", "math", "high", 5000)
            await sync(seed, store)
            first, second = priors(), priors()
            for process in (first, second):
                process.load(await store.get_state(NAMESPACE))
            first.observe("mini", "math", "high", 9000)
            second.observe("mini", "math", "high", 9000)
            second.observe("small", "chat", "none", 40)
            await sync(first, store)
            await sync(second, store)  # adds its own movement to what the first wrote
            return second, await store.get_state(NAMESPACE)
        finally:
            await store.close()

    second, stored = asyncio.run(scenario())
    assert stored["mini|math|high"].split()[1] == "3"  # the seed's answer and both processes'
    assert stored["small|chat|none"].split()[1] == "1"
    again = priors()
    again.load(stored)
    one = priors()
    one.observe("mini", "math", "high", 5000)
    one.observe("mini", "math", "high", 9000)
    # both moves count: above what one process alone would have learned
    assert again.expected("mini", "math", "high") > one.expected("mini", "math", "high")
    assert second.expected("mini", "math", "high") == pytest.approx(
        again.expected("mini", "math", "high")
    )


def test_learning_is_saved_while_serving_not_only_at_shutdown(tmp_path: Path) -> None:
    async def scenario() -> dict[str, str]:
        store = await SQLiteStore(tmp_path / "state.db").open()
        try:
            learned = priors()
            syncing = PriorsSync(learned, store, seconds=0.05)
            learned.observe("small", "chat", "none", 40)
            await asyncio.sleep(0.3)
            saved = await store.get_state(NAMESPACE)  # a process killed now loses nothing
            await syncing.stop()
            return saved
        finally:
            await store.close()

    assert asyncio.run(scenario())["small|chat|none"].split()[1] == "1"
