"""A ledger batch rides on the next settlement's round trip, and is never lost on the way.

Against a real redis-server. `WAIT` (how long a batch waits for a settlement before it goes
alone) is raised where a test needs the batch to wait for the settlement it sends.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from router.store import redis_rides
from router.store.base import BudgetRecord, LedgerRecord, StoreUnavailable, TeamRecord
from router.store.redis import RedisStore
from router.store.redis_lua import SETTLE
from router.store.redis_rides import Rides
from router.store.redis_wire import Commands

T0 = 1_710_000_000.0


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    opened = await RedisStore(redis_url, prefix="t" + uuid.uuid4().hex[:12]).open()
    await opened.put_team(TeamRecord("research", T0))
    await opened.put_budget(BudgetRecord("team:research", Decimal(10), "total"))
    yield opened
    await opened.close()


def record(request_id: str) -> LedgerRecord:
    return LedgerRecord(ts=T0, request_id=request_id, team="research", key_id="k", endpoint="chat")


async def test_a_batch_goes_with_the_next_settlement(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_rides, "WAIT", 30.0)
    assert (await store.reserve("r1", ["team:research"], Decimal(3), 60, T0)).ok
    batch = asyncio.create_task(store.append_ledger([record("r1"), record("r2")]))
    await asyncio.sleep(0.1)
    assert not batch.done()  # no round trip of its own
    assert await store.settle("r1", Decimal(2), T0 + 1)
    assert await asyncio.wait_for(batch, 2) == 2
    assert [r.request_id for r in await store.query_ledger(team="research")] == ["r1", "r2"]
    view = await store.spend("team:research", T0 + 2)
    assert view is not None and (view.settled, view.in_flight) == (Decimal(2), Decimal(0))


async def test_a_batch_goes_alone_when_no_settlement_comes(store: RedisStore) -> None:
    assert await asyncio.wait_for(store.append_ledger([record("r1")]), 2) == 1
    assert await asyncio.wait_for(store.append_ledger([record("r1")]), 2) == 0  # a replay


@pytest.mark.parametrize("settle_script_kept", [False, True])
async def test_a_flushed_script_cache_loses_neither_the_settlement_nor_its_riders(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch, settle_script_kept: bool
) -> None:
    """Both scripts gone: the settlement reloads them and sends itself and its riders again.
    Only the ledger's gone: the settlement stands, and its rider goes again on its own."""
    monkeypatch.setattr(redis_rides, "WAIT", 30.0)
    assert (await store.reserve("r1", ["team:research"], Decimal(3), 60, T0)).ok
    batch = asyncio.create_task(store.append_ledger([record("r1")]))
    await asyncio.sleep(0.05)
    await store.client.script_flush()
    if settle_script_kept:
        await store.client.script_load(SETTLE)
        monkeypatch.setattr(redis_rides, "WAIT", 0.02)
    assert await store.settle("r1", Decimal(2), T0 + 1)
    assert await asyncio.wait_for(batch, 2) == 1
    assert [r.request_id for r in await store.query_ledger()] == ["r1"]
    view = await store.spend("team:research", T0 + 2)
    assert view is not None and (view.settled, view.in_flight) == (Decimal(2), Decimal(0))


async def test_closing_the_store_fails_what_waits(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_rides, "WAIT", 30.0)
    batch = asyncio.create_task(store.append_ledger([record("r1")]))
    await asyncio.sleep(0.05)
    await store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        await asyncio.wait_for(batch, 2)


async def test_a_cancelled_round_trip_queues_its_riders_again() -> None:
    sent: list[int] = []
    rides = Rides(lambda: asyncio.sleep(0, sent.append(len(rides))))
    waiting = asyncio.create_task(rides.wait("0" * 40, ["k"], ["a"]))
    await asyncio.sleep(0)
    boarded = rides.board(Commands())
    assert len(boarded) == 1 and len(rides) == 0
    rides.missed(boarded)  # e.g. the settlement carrying it timed out
    assert len(rides) == 1
    await asyncio.sleep(redis_rides.WAIT * 3)
    assert sent == [1]  # it went alone after WAIT
    assert not waiting.done()  # still waiting for a reply, not dropped
    rides.land(rides.board(Commands()), [7])
    assert await waiting == 7


async def test_a_failed_round_trip_gives_its_riders_the_failure() -> None:
    rides = Rides(lambda: asyncio.sleep(0))
    waiting = asyncio.create_task(rides.wait("0" * 40, ["k"], ["a"]))
    await asyncio.sleep(0)
    rides.fail(rides.board(Commands()), RedisConnectionError("gone"))
    with pytest.raises(RedisConnectionError, match="gone"):
        await waiting
    assert len(rides) == 0
