"""The proxy's memory of response ids on every store: kept with the store's ttl, then gone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from router.responses.memory import PREFIX, Pin, context_tokens, forget, recall, remember
from router.store.base import Store
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite":
        opened = await SQLiteStore(tmp_path / "store.db").open()
    else:
        url = request.getfixturevalue("redis_url")
        opened = await RedisStore(url, prefix="t" + uuid.uuid4().hex[:12]).open()
    yield opened
    await opened.close()


PIN = Pin(
    "sim-small",
    "dev",
    [{"role": "user", "content": "hi"}],
    {"id": "resp_1"},
    effort="high",
    items=[{"id": "msg_1_0", "type": "message", "role": "user", "content": "hi"}],
)


async def test_a_pin_is_recalled_until_its_ttl_then_deleted_by_the_store(store: Store) -> None:
    await remember(store, "resp_1", PIN, 0.3)
    await remember(store, "resp_2", Pin("sim-small", "dev"), 600)
    assert await recall(store, "resp_1") == PIN
    for _ in range(200):  # 10 s at most
        if not await store.get_state(PREFIX + "resp_1"):
            break
        await asyncio.sleep(0.05)
    assert await store.get_state(PREFIX + "resp_1") == {}  # not just read as expired
    assert await recall(store, "resp_1") is None
    assert await recall(store, "resp_2") == Pin("sim-small", "dev")


async def test_forget_deletes_at_once(store: Store) -> None:
    await remember(store, "resp_1", PIN, 600)
    await forget(store, "resp_1")
    assert await store.get_state(PREFIX + "resp_1") == {}
    assert await recall(store, "resp_1") is None


async def test_the_tokens_a_native_upstream_holds_are_kept(store: Store) -> None:
    usage = {"input_tokens": 120, "output_tokens": 45, "total_tokens": 165}
    pin = Pin("sim-large-reasoner", "dev", tokens=context_tokens({"usage": usage}))
    await remember(store, "resp_3", pin, 600)
    assert await recall(store, "resp_3") == Pin("sim-large-reasoner", "dev", tokens=165)


@pytest.mark.parametrize(
    ("response", "tokens"),
    [
        ({"usage": {"input_tokens": 10, "output_tokens": 5}}, 15),
        ({"usage": {"input_tokens": 10}}, 10),
        ({"usage": None}, 0),
        ({}, 0),
        ({"usage": {"input_tokens": "10", "output_tokens": True}}, 0),
        ({"usage": {"input_tokens": -3, "output_tokens": 4}}, 4),
    ],
)
def test_context_tokens(response: dict[str, object], tokens: int) -> None:
    assert context_tokens(response) == tokens
