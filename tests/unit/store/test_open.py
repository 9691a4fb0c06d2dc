"""Opening stores from URLs, the backends' own guarantees, and the records' validation."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from redis.crc import key_slot

from router.store import codec
from router.store.base import BudgetRecord, KeyRecord, StoreUnavailable, TeamRecord
from router.store.memory import MemoryStore
from router.store.open import open_store
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore

T0 = 1_710_000_000.0


def usd(*amounts: int | str) -> tuple[Decimal, ...]:
    return tuple(Decimal(a) for a in amounts)


DIGEST = "ab" * 32


async def test_no_url_means_sqlite_under_home(tmp_path: Path) -> None:
    store = await open_store(None, tmp_path / "home")
    try:
        assert isinstance(store, SQLiteStore)
        assert store.path == tmp_path / "home" / "tokenwise.db"
        assert store.path.is_file()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("sqlite:///{tmp}/abs/spend.db", "abs/spend.db"),
        ("sqlite://rel/spend.db", "home/rel/spend.db"),
    ],
)
async def test_sqlite_urls(tmp_path: Path, url: str, relative: str) -> None:
    store = await open_store(url.format(tmp=tmp_path), tmp_path / "home")
    try:
        assert isinstance(store, SQLiteStore) and store.path == tmp_path / relative
    finally:
        await store.close()


async def test_memory_and_redis_urls(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(await open_store("memory://", tmp_path), MemoryStore)
    store = await open_store(redis_url, tmp_path)
    try:
        assert isinstance(store, RedisStore)
        await store.put_team(TeamRecord("t-open", T0))
        assert await store.get_team("t-open") == TeamRecord("t-open", T0)
        await store.delete_team("t-open")
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url", ["postgres://db/x", "sqlite://", "sqlite:///", "memory:", "redis:/x", "tokenwise.db"]
)
async def test_bad_urls_name_themselves_and_the_accepted_forms(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError) as caught:
        await open_store(url, tmp_path)
    assert repr(url) in str(caught.value)
    assert "memory://" in str(caught.value) and "redis://host:port/db" in str(caught.value)
    assert not any(tmp_path.iterdir()), "nothing was created"  # noqa: ASYNC240


async def test_sqlite_keeps_everything_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = await SQLiteStore(path).open()
    await first.put_team(TeamRecord("research", T0))
    await first.put_budget(BudgetRecord("team:research", Decimal(10), "day"))
    await first.reserve("r1", ["team:research"], Decimal(4), 60, T0)
    await first.close()
    second = await SQLiteStore(path).open()
    try:
        view = await second.spend("team:research", T0)
        assert view is not None and view.in_flight == 4
        assert await second.expire(T0 + 60) == 1, "the lease survived the restart"
        view = await second.spend("team:research", T0)
        assert view is not None and (view.settled, view.in_flight) == usd(4, 0)
    finally:
        await second.close()


async def test_an_unreachable_redis_is_unavailable_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(StoreUnavailable, match="Redis"):
            await RedisStore(f"redis://127.0.0.1:{port}/0").open()


async def test_one_request_keeps_its_redis_keys_in_one_cluster_slot(redis_url: str) -> None:
    store = await RedisStore(redis_url, prefix="slots").open()
    try:
        await store.put_team(TeamRecord("research", T0))
        await store.put_key(KeyRecord("k1", "research", DIGEST, None, T0))
        for scope in ("team:research", "key:k1"):
            await store.put_budget(BudgetRecord(scope, Decimal(10), "rolling:600"))
        await store.reserve("r1", ["team:research", "key:k1"], Decimal(1), 60, T0)
        keys = [k async for k in store.client.scan_iter(match="{slots:team:*")]
        assert len(keys) >= 4  # two in-flight counters, the reservation, the leases
        assert {key_slot(k.encode()) for k in keys} == {key_slot(b"slots:team:research")}
    finally:
        await store.close()


def test_records_validate_and_decode_leniently() -> None:
    with pytest.raises(ValueError, match="window"):
        BudgetRecord("team:x", Decimal(1), "fortnight")
    with pytest.raises(ValueError, match="IANA"):
        BudgetRecord("team:x", Decimal(1), "day", "Nowhere/Land")
    with pytest.raises(ValueError, match="from 0 to 1,000,000,000"):
        BudgetRecord("team:x", Decimal(-1))
    with pytest.raises(ValueError, match="from 0 to 1,000,000,000"):
        BudgetRecord("team:x", Decimal("1e999999"))
    with pytest.raises(ValueError, match="fraction"):
        BudgetRecord("team:x", Decimal(1), soft_threshold=Decimal("1.5"))
    newer = '{"name": "t", "created_at": 1, "policy": null, "added_later": 3}'
    assert codec.loads(TeamRecord, newer) == TeamRecord("t", 1.0)
    key = KeyRecord("k", "t", DIGEST, None, T0, models=("a",), budget_usd=Decimal("0.10"))
    assert codec.loads(KeyRecord, codec.dumps(key)) == key


def test_stores_opening_a_new_file_together_all_open(tmp_path: Path) -> None:
    """Workers started together open one store file that does not exist yet: switching it to
    WAL at the same moment answered "database is locked" at once, and a worker failed to start."""

    def open_and_close(path: Path) -> None:
        async def run() -> None:
            store = await SQLiteStore(path).open()
            await store.close()

        asyncio.run(run())

    for trial in range(25):
        path = tmp_path / f"fresh-{trial}.db"
        with ThreadPoolExecutor(max_workers=4) as pool:
            opened = [pool.submit(open_and_close, path) for _ in range(4)]
            errors = [f.exception() for f in opened]
        assert errors == [None] * 4, (trial, errors)
        with closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
