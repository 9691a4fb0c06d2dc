"""Keys looked up in the store: cached briefly when active, never when unknown or revoked."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from router.auth import Authenticator, Principal, hash_key
from router.budget.directory import KeyDirectory
from router.budget.flight import Gate
from router.errors import AuthenticationFailed, Overloaded
from router.store.base import KeyRecord, StoreUnavailable, TeamRecord
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from tests.redis_server import start


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def store_with(*keys: tuple[str, str]) -> MemoryStore:
    store = await MemoryStore().open()
    await store.put_team(TeamRecord("research", 0.0))
    for key_id, secret in keys:
        record = KeyRecord(key_id, "research", hash_key(secret), None, 0.0, models=("sim-small",))
        await store.put_key(record)
    return store


async def test_a_revoked_key_stops_working_once_the_cache_entry_is_old() -> None:
    store = await store_with(("k1", "secret-1"))
    clock = Clock()
    directory = KeyDirectory(store, Gate(8, 1.0), ttl=5.0, size=100, clock=clock)
    found = await directory.lookup(hash_key("secret-1"))
    assert found == Principal("research", "k1", models=("sim-small",))
    await store.revoke_key("k1")
    clock.now += 4.9
    assert await directory.lookup(hash_key("secret-1")) == found  # still cached
    clock.now += 0.2
    with pytest.raises(AuthenticationFailed, match="k1 has been revoked"):
        await directory.lookup(hash_key("secret-1"))


async def test_forget_drops_a_key_at_once_and_unknown_digests_are_remembered_briefly() -> None:
    store = await store_with(("k1", "secret-1"))
    clock = Clock()
    directory = KeyDirectory(store, Gate(8, 1.0), ttl=5.0, size=100, clock=clock)
    assert await directory.lookup(hash_key("later")) is None
    await store.put_key(KeyRecord("k2", "research", hash_key("later"), None, 0.0))
    assert await directory.lookup(hash_key("later")) is None  # remembered as unknown
    clock.now += 5.1
    assert await directory.lookup(hash_key("later")) == Principal("research", "k2")
    digest = hash_key("secret-1")
    assert await directory.lookup(digest) is not None
    await store.revoke_key("k1")
    directory.forget(digest)
    with pytest.raises(AuthenticationFailed):
        await directory.lookup(digest)
    assert len(directory) == 1  # k2 only


async def test_the_cache_is_bounded() -> None:
    store = await store_with(*[(f"k{i}", f"s{i}") for i in range(5)])
    directory = KeyDirectory(store, Gate(8, 1.0), ttl=60.0, size=3)
    for i in range(5):
        await directory.lookup(hash_key(f"s{i}"))
    assert len(directory) == 3


@pytest.fixture
async def doomed_redis(tmp_path: Path) -> AsyncIterator[tuple[RedisStore, Callable[[], None]]]:
    """A Redis store on a private redis-server, and a function that stops that server."""
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is not on PATH"
    proc, port = start(exe, tmp_path)
    store = await RedisStore(f"redis://127.0.0.1:{port}/0").open()

    def stop() -> None:
        proc.kill()
        proc.wait()

    yield store, stop
    await store.close()
    if proc.poll() is None:
        stop()


@pytest.mark.parametrize("fail_open", [False, True])
async def test_store_down_uses_a_stale_entry_only_failing_open(
    fail_open: bool, doomed_redis: tuple[RedisStore, Callable[[], None]]
) -> None:
    store, stop = doomed_redis
    await store.put_team(TeamRecord("research", 0.0))
    await store.put_key(KeyRecord("k1", "research", hash_key("s"), None, 0.0))
    clock = Clock()
    directory = KeyDirectory(
        store, Gate(8, 1.0), ttl=1.0, size=10, fail_open=fail_open, clock=clock
    )
    await directory.lookup(hash_key("s"))
    stop()
    clock.now += 10
    if fail_open:
        assert await directory.lookup(hash_key("s")) == Principal("research", "k1")
    else:
        with pytest.raises(StoreUnavailable):
            await directory.lookup(hash_key("s"))


async def test_authenticator_prefers_the_store_and_falls_back_to_memory_keys(
    doomed_redis: tuple[RedisStore, Callable[[], None]],
) -> None:
    store, stop = doomed_redis
    await store.put_team(TeamRecord("research", 0.0))
    await store.put_key(KeyRecord("cfg", "research", hash_key("config-key"), None, 0.0))
    directory = KeyDirectory(store, Gate(8, 1.0), ttl=60.0, size=10)
    static = {
        hash_key("config-key"): Principal("research", "cfg"),
        hash_key("dev-key"): Principal("dev", "dev"),
    }
    auth = Authenticator(static, directory)
    assert await auth.resolve("Bearer dev-key") == Principal("dev", "dev")
    await store.revoke_key("cfg")
    with pytest.raises(AuthenticationFailed, match="revoked"):
        await auth.resolve("Bearer config-key")  # the store's word wins over the config's
    stop()
    assert await auth.resolve("Bearer dev-key") == Principal("dev", "dev")
    with pytest.raises(Overloaded):
        await auth.resolve("Bearer unknown-key")


async def test_an_expired_key_is_refused_on_both_paths() -> None:
    expired = Authenticator({hash_key("old"): Principal("a", "old", expires_at=1.0)})
    with pytest.raises(AuthenticationFailed, match="expired"):
        await expired.resolve("Bearer old")
    with pytest.raises(AuthenticationFailed, match="expired"):
        expired.authenticate("Bearer old")
