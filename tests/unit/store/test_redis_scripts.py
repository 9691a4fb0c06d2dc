"""The Redis store sends its scripts by SHA and loads them again when the server lost them.

A restarted Redis, or a replica promoted by Sentinel, has an empty script cache: the next
reservation, settlement or ledger batch answers NOSCRIPT once, the store loads its scripts and
sends the same pipeline again (its other commands are idempotent), and nothing is counted twice.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from router.store.base import BudgetRecord, LedgerRecord, TeamRecord
from router.store.redis import RedisStore

T0 = 1_710_000_000.0


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    opened = await RedisStore(redis_url, prefix="t" + uuid.uuid4().hex[:12]).open()
    yield opened
    await opened.close()


async def test_reserve_settle_and_ledger_survive_a_flushed_script_cache(store: RedisStore) -> None:
    await store.put_team(TeamRecord("research", T0))
    await store.put_budget(BudgetRecord("team:research", Decimal(10), "total"))
    await store.client.script_flush()
    assert (await store.reserve("r1", ["team:research"], Decimal(3), 60, T0)).ok
    await store.client.script_flush()
    assert await store.settle("r1", Decimal(2), T0 + 1)
    await store.client.script_flush()
    record = LedgerRecord(ts=T0, request_id="r1", team="research", key_id="k", endpoint="chat")
    assert await store.append_ledger([record]) == 1
    view = await store.spend("team:research", T0 + 2)
    assert view is not None and (view.settled, view.in_flight) == (Decimal(2), Decimal(0))
    assert [r.request_id for r in await store.query_ledger(team="research")] == ["r1"]
