"""Teams, keys and budgets in Redis: hashes of JSON records under one hash tag (`{tw:meta}`).

Changes are WATCH/MULTI transactions, so the checks in `rules.py` and the writes they guard
are atomic (a concurrent change makes the transaction retry).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.client import Pipeline

from router.store import codec
from router.store.base import BudgetRecord, KeyRecord, StoreUnavailable, TeamRecord
from router.store.rules import check_budget_owner, check_key, scope_owner

P = ParamSpec("P")
# A lost connection, a server still loading, a replica left read-only by a failover.
UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
)
R = TypeVar("R")


def guarded(fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Turn a lost connection into `StoreUnavailable`, which the app answers with a 503."""

    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis store: {exc}") from exc

    return call


def text(value: object) -> str:
    """A reply as text, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


def texts(values: object) -> list[str]:
    assert isinstance(values, list | set | tuple), values
    return [text(v) for v in values]


class RedisPrincipals:
    client: aioredis.Redis

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._key_teams: dict[str, str] = {}  # key id -> team; a key never changes team

    def _meta(self, name: str) -> str:
        return "{" + self.prefix + ":meta}:" + name

    async def _team_of_key(self, key_id: str) -> str | None:
        team = self._key_teams.get(key_id)
        if team is None:
            key = await self.get_key(key_id)
            if key is not None:
                team = self._key_teams[key_id] = key.team
        return team

    async def _change(self, work: Callable[[Pipeline], Awaitable[R]]) -> R:
        """Run `work` in a WATCH/MULTI transaction over the meta hashes."""
        watched = [self._meta(n) for n in ("teams", "keys", "keyhash", "budgets")]
        result: R = await self.client.transaction(work, *watched, value_from_callable=True)
        return result

    @guarded
    async def put_team(self, team: TeamRecord) -> None:
        await self.client.hset(self._meta("teams"), team.name, codec.dumps(team))

    @guarded
    async def get_team(self, name: str) -> TeamRecord | None:
        data = await self.client.hget(self._meta("teams"), name)
        return None if data is None else codec.loads(TeamRecord, data)

    @guarded
    async def list_teams(self) -> list[TeamRecord]:
        rows = await self.client.hgetall(self._meta("teams"))
        return [codec.loads(TeamRecord, rows[n]) for n in sorted(rows)]

    @guarded
    async def delete_team(self, name: str) -> bool:
        async def work(pipe: Pipeline) -> bool:
            if not await pipe.hexists(self._meta("teams"), name):
                return False
            keys = [codec.loads(KeyRecord, d) for d in (await pipe.hvals(self._meta("keys")))]
            mine = [k for k in keys if k.team == name]
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            pipe.hdel(self._meta("teams"), name)
            pipe.hdel(self._meta("budgets"), f"team:{name}", *(f"key:{k.key_id}" for k in mine))
            if mine:
                pipe.hdel(self._meta("keys"), *(k.key_id for k in mine))
                pipe.hdel(self._meta("keyhash"), *(k.key_sha256 for k in mine))
            return True

        return await self._change(work)

    @guarded
    async def put_key(self, key: KeyRecord) -> None:
        async def work(pipe: Pipeline) -> None:
            team = await pipe.hexists(self._meta("teams"), key.team)
            old = await pipe.hget(self._meta("keys"), key.key_id)
            stored = None if old is None else codec.loads(KeyRecord, old)
            holder = await pipe.hget(self._meta("keyhash"), key.key_sha256)
            check_key(key, bool(team), stored, None if holder is None else text(holder))
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            if stored is not None:
                pipe.hdel(self._meta("keyhash"), stored.key_sha256)
            pipe.hset(self._meta("keys"), key.key_id, codec.dumps(key))
            pipe.hset(self._meta("keyhash"), key.key_sha256, key.key_id)

        await self._change(work)

    @guarded
    async def get_key(self, key_id: str) -> KeyRecord | None:
        data = await self.client.hget(self._meta("keys"), key_id)
        return None if data is None else codec.loads(KeyRecord, data)

    @guarded
    async def key_by_hash(self, key_sha256: str) -> KeyRecord | None:
        key_id = await self.client.hget(self._meta("keyhash"), key_sha256)
        return None if key_id is None else await self.get_key(text(key_id))

    @guarded
    async def list_keys(self, team: str | None = None) -> list[KeyRecord]:
        keys = [codec.loads(KeyRecord, d) for d in await self.client.hvals(self._meta("keys"))]
        chosen = [k for k in keys if team is None or k.team == team]
        return sorted(chosen, key=lambda k: (k.team, k.key_id))

    @guarded
    async def revoke_key(self, key_id: str) -> bool:
        async def work(pipe: Pipeline) -> bool:
            data = await pipe.hget(self._meta("keys"), key_id)
            if data is None:
                return False
            revoked = replace(codec.loads(KeyRecord, data), revoked=True)
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            pipe.hset(self._meta("keys"), key_id, codec.dumps(revoked))
            return True

        return await self._change(work)

    @guarded
    async def put_budget(self, budget: BudgetRecord) -> None:
        async def work(pipe: Pipeline) -> None:
            owner = scope_owner(budget.scope)
            name = owner[1] if owner else ""
            team = await pipe.hexists(self._meta("teams"), name)
            key = await pipe.hexists(self._meta("keys"), name)
            check_budget_owner(budget.scope, bool(team), bool(key))
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            pipe.hset(self._meta("budgets"), budget.scope, codec.dumps(budget))

        await self._change(work)

    @guarded
    async def get_budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]:
        if not scopes:
            return {}
        found = await self.client.hmget(self._meta("budgets"), list(scopes))
        return {s: codec.loads(BudgetRecord, d) for s, d in zip(scopes, found, strict=True) if d}

    @guarded
    async def list_budgets(self) -> list[BudgetRecord]:
        rows = await self.client.hgetall(self._meta("budgets"))
        return [codec.loads(BudgetRecord, rows[s]) for s in sorted(rows)]

    @guarded
    async def delete_budget(self, scope: str) -> bool:
        return bool(await self.client.hdel(self._meta("budgets"), scope))
