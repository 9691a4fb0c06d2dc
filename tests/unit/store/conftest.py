"""Store fixtures: every contract test runs against memory, SQLite and a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from router.store.base import Store
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore

Opener = Callable[[], Awaitable[Store]]
BACKENDS = ["memory", "sqlite", "redis"]


@pytest.fixture(params=BACKENDS)
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens store instances that share one backing store (the same file, the same Redis).

    Memory has no second instance to open, so it hands back the same one.
    """
    kind: str = request.param
    opened: list[Store] = []
    memory = MemoryStore()
    url = request.getfixturevalue("redis_url") if kind == "redis" else ""
    prefix = "t" + uuid.uuid4().hex[:12]

    async def open_one() -> Store:
        if kind == "memory":
            return memory
        store: Store
        if kind == "sqlite":
            store = await SQLiteStore(tmp_path / "store.db").open()
        else:
            store = await RedisStore(url, prefix=prefix).open()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(opener: Opener) -> Store:
    return await opener()
