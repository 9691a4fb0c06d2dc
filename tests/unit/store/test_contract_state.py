"""Named state (the router's learned figures, response ids) round-trips through every backend,
and a namespace put with a ttl expires whole (real clocks: Redis expires keys by its own)."""

from __future__ import annotations

import asyncio

from router.store.base import Store
from tests.unit.store.conftest import Opener


async def test_state_upserts_and_reads_back_across_instances(opener: Opener) -> None:
    first = await opener()
    assert await first.get_state("priors") == {}
    await first.put_state("priors", {"a|math|high": "812.5", "b|chat|none": "40"})
    await first.put_state("priors", {"a|math|high": "900"})
    second = await opener()
    assert await second.get_state("priors") == {"a|math|high": "900", "b|chat|none": "40"}
    assert await second.get_state("other") == {}
    await second.put_state("other", {})
    assert await first.get_state("other") == {}


async def eventually_empty(store: Store, namespace: str, polls: int = 200) -> dict[str, str]:
    """The namespace's values once they are gone, or as they are after `polls` looks 50 ms
    apart (10 s: long past any ttl used here, however loaded the machine)."""
    values = await store.get_state(namespace)
    for _ in range(polls):
        if not values:
            break
        await asyncio.sleep(0.05)
        values = await store.get_state(namespace)
    return values


async def test_a_namespace_put_with_a_ttl_expires_whole(opener: Opener) -> None:
    store = await opener()
    await store.put_state("short", {"a": "1"}, ttl_seconds=0.3)
    await store.put_state("short", {"b": "2"})  # no ttl: the expiry stays as it was
    await store.put_state("long", {"a": "1"}, ttl_seconds=600)
    await store.put_state("forever", {"a": "1"})
    assert await eventually_empty(await opener(), "short") == {}
    assert await store.get_state("long") == {"a": "1"}
    assert await store.get_state("forever") == {"a": "1"}
    # An expired namespace starts afresh: nothing of the old values comes back.
    await store.put_state("short", {"c": "3"})
    assert await store.get_state("short") == {"c": "3"}


async def test_a_later_ttl_renews_the_namespace(opener: Opener) -> None:
    store = await opener()
    await store.put_state("renewed", {"a": "1"}, ttl_seconds=1.0)
    await store.put_state("renewed", {"b": "2"}, ttl_seconds=600)
    await asyncio.sleep(1.5)  # past the first expiry
    assert await store.get_state("renewed") == {"a": "1", "b": "2"}


async def test_a_ttl_of_zero_deletes_the_namespace(opener: Opener) -> None:
    store = await opener()
    await store.put_state("gone", {"a": "1", "b": "2"})
    await store.put_state("gone", {}, ttl_seconds=0)
    assert await (await opener()).get_state("gone") == {}
    await store.put_state("other", {"a": "1"}, ttl_seconds=600)
    await store.put_state("other", {"b": "2"}, ttl_seconds=-1)
    assert await store.get_state("other") == {}
    await store.put_state("other", {"c": "3"})
    assert await store.get_state("other") == {"c": "3"}
