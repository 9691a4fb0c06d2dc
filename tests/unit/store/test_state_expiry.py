"""Expired state is reclaimed, not only hidden: each backend's storage is looked at directly."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import redis.asyncio as aioredis

from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore


def rows(path: Path, namespace: str) -> tuple[int, int]:
    """(values, expiry rows) the SQLite file holds for a namespace."""
    with sqlite3.connect(path) as conn:
        values = conn.execute("SELECT COUNT(*) FROM state WHERE namespace = ?", (namespace,))
        expiry = conn.execute("SELECT COUNT(*) FROM state_expiry WHERE namespace = ?", (namespace,))
        return values.fetchone()[0], expiry.fetchone()[0]


async def test_sqlite_purges_expired_namespaces_on_writes_and_upkeep(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = await SQLiteStore(path).open()
    try:
        await store.put_state("responses:a", {"target": "m", "team": "t"}, ttl_seconds=0.05)
        await store.put_state("responses:b", {"target": "m"}, ttl_seconds=3600)
        await store.put_state("priors", {"k": "1"})
        assert rows(path, "responses:a") == (2, 1)
        await asyncio.sleep(0.2)
        await store.put_state("responses:c", {"target": "m"}, ttl_seconds=3600)  # any write
        assert rows(path, "responses:a") == (0, 0)
        assert rows(path, "responses:b") == (1, 1)
        assert await store.expire(time.time() + 7200) == 0  # the upkeep: b's hour is over
        assert rows(path, "responses:b") == (0, 0)
        assert rows(path, "priors") == (1, 0)  # no ttl: kept
    finally:
        await store.close()


async def test_memory_purges_expired_namespaces() -> None:
    store = MemoryStore()
    await store.put_state("responses:a", {"target": "m"}, ttl_seconds=3600)
    await store.put_state("responses:a", {"team": "t"}, ttl_seconds=7200)  # renewed
    await store.put_state("priors", {"k": "1"})
    await store.expire(time.time() + 3601)  # past the first deadline only
    assert await store.get_state("responses:a") == {"target": "m", "team": "t"}
    await store.expire(time.time() + 7201)
    assert "responses:a" not in store._state and "responses:a" not in store._state_expiry
    assert store._state_deadlines == []
    assert await store.get_state("priors") == {"k": "1"}


async def test_redis_sets_the_expiry_on_the_key_itself(redis_url: str) -> None:
    store = await RedisStore(redis_url, prefix="texpiry").open()
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.put_state("responses:a", {"target": "m"}, ttl_seconds=60)
        await store.put_state("priors", {"k": "1"})
        assert 0 < await raw.pttl("{texpiry:state}responses:a") <= 60_000
        assert await raw.pttl("{texpiry:state}priors") == -1  # no expiry
        await store.put_state("responses:a", {"team": "t"})  # a put without ttl keeps it
        assert 0 < await raw.pttl("{texpiry:state}responses:a") <= 60_000
        await store.put_state("responses:a", {}, ttl_seconds=0)
        assert await raw.exists("{texpiry:state}responses:a") == 0
    finally:
        await raw.delete("{texpiry:state}priors")
        await raw.aclose()
        await store.close()
