"""API keys looked up in the store by digest, with a short, bounded in-process cache.

Active keys are cached, each for `auth.cache_seconds` (default 5 s): a key revoked or expired
elsewhere stops working within that time on every replica (at once on the replica that revoked
it, which calls `forget`). Digests the store does not know are remembered as unknown for the
same time, in a cache of their own (so a stream of wrong keys cannot push real ones out); a new
key is not delayed by this, since nobody could present its random secret before it existed.
Revoked and expired keys are not cached. Each cache holds at most `auth.cache_size` digests,
least recently used out first.

When the store cannot answer, budgets failing open (`budgets.on_store_error: fail_open`) accept
a key the cache still remembers, however old; failing closed, the caller answers 503.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from router.auth import Principal
from router.budget.flight import Gate, SingleFlight
from router.errors import AuthenticationFailed
from router.store.base import KeyRecord, Store, StoreUnavailable, TeamRecord

V = TypeVar("V")


def principal_of(key: KeyRecord, policy: str | None = None) -> Principal:
    return Principal(
        team=key.team,
        key_id=key.key_id,
        models=key.models,
        rpm=key.rpm,
        tpm=key.tpm,
        expires_at=key.expires_at,
        policy=policy,
    )


def inactive(key: KeyRecord) -> AuthenticationFailed:
    state = "revoked" if key.revoked else "expired"
    return AuthenticationFailed(
        f"The API key {key.key_id} has been {state}; ask for a new one.", code="invalid_api_key"
    )


def _remember(cache: OrderedDict[str, V], key: str, value: V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


class KeyDirectory:
    def __init__(
        self,
        store: Store,
        gate: Gate,
        *,
        ttl: float,
        size: int,
        fail_open: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.gate = gate
        self.ttl = ttl
        self.size = size
        self.fail_open = fail_open
        self.clock = clock
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._flying: SingleFlight[str, tuple[KeyRecord, TeamRecord | None] | None] = SingleFlight()

    async def lookup(self, key_sha256: str) -> Principal | None:
        now = self.clock()
        hit = self._cache.get(key_sha256)
        if hit is not None and now - hit[1] < self.ttl:
            self._cache.move_to_end(key_sha256)
            return hit[0]
        missed = self._unknown.get(key_sha256)
        if missed is not None and now - missed < self.ttl:
            return None
        try:
            found = await self._flying.run(key_sha256, lambda: self._fetch(key_sha256))
        except (StoreUnavailable, TimeoutError) as exc:
            if hit is not None and self.fail_open:
                return hit[0]
            raise StoreUnavailable(f"key lookup: {exc!r}") from exc
        if found is None:
            self._cache.pop(key_sha256, None)
            _remember(self._unknown, key_sha256, now, self.size)
            return None
        record, team = found
        if not record.active(time.time()):
            self._cache.pop(key_sha256, None)
            raise inactive(record)
        principal = principal_of(record, team.policy if team is not None else None)
        _remember(self._cache, key_sha256, (principal, now), self.size)
        return principal

    async def _fetch(self, key_sha256: str) -> tuple[KeyRecord, TeamRecord | None] | None:
        """The key with this digest and its team (for the team's routing policy)."""
        record = await self.gate.call(lambda: self.store.key_by_hash(key_sha256))
        if record is None:
            return None
        return record, await self.gate.call(lambda: self.store.get_team(record.team))

    def forget(self, key_sha256: str) -> None:
        """Drop a key from the caches (it was just made, revoked or changed here)."""
        self._cache.pop(key_sha256, None)
        self._unknown.pop(key_sha256, None)

    def __len__(self) -> int:
        return len(self._cache)
