"""`redis+sentinel://` store URLs: the store finds the master through a real Redis Sentinel.

A private redis-server is the master and a sentinel (`redis-server --sentinel`) monitors it
under the name `tokenwise`; the store is opened from the sentinel's address only, and what it
writes is read back from the master directly.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from router.store.base import BudgetRecord, TeamRecord
from router.store.open import open_store, sentinel_master
from router.store.redis import RedisStore
from tests.processes import free_port
from tests.redis_server import answers_ping
from tests.redis_server import start as start_redis

T0 = 1_710_000_000.0


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(master port, sentinel port)."""
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is not on PATH"
    master, master_port = start_redis(exe, tmp_path)
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor tokenwise 127.0.0.1 {master_port} 1\n"
    )
    watcher = subprocess.Popen(
        [exe, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not answers_ping(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answers_ping(port), "redis sentinel did not start"
        yield master_port, port
    finally:
        for proc in (watcher, master):
            proc.kill()
            proc.wait()


async def test_a_sentinel_url_opens_the_master_it_names(
    sentinel: tuple[int, int], tmp_path: Path
) -> None:
    master_port, port = sentinel
    store = await open_store(f"redis+sentinel://127.0.0.1:{port}/tokenwise/0", tmp_path)
    try:
        assert isinstance(store, RedisStore)
        await store.put_team(TeamRecord("research", T0))
        await store.put_budget(BudgetRecord("team:research", Decimal(10), "total"))
        assert (await store.reserve("r1", ["team:research"], Decimal(3), 60, T0)).ok
        assert await store.settle("r1", Decimal(2), T0 + 1)
    finally:
        await store.close()
    direct = redis.Redis(host="127.0.0.1", port=master_port, decode_responses=True)
    try:
        assert direct.hexists("{tw:meta}:teams", "research")
    finally:
        direct.close()


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/",
        "redis+sentinel://127.0.0.1:x/tokenwise",
        "redis+sentinel://127.0.0.1:26379/tokenwise/zero",
    ],
)
def test_a_malformed_sentinel_url_is_refused_with_the_accepted_forms(
    url: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="redis\\+sentinel://"):
        sentinel_master(url, tmp_path)
