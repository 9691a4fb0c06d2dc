"""`RedisStore`: the store for several replicas sharing one Redis (or Sentinel / Cluster).

Atomicity: `reserve` is one Lua script (`redis_lua.RESERVE`) and `settle` another, so concurrent
replicas can neither overspend nor double-settle. Each is one round trip: the script goes by its
SHA in a pipeline with the commands around it (scripts are loaded at `open`, and again once when
the server answers NOSCRIPT after a restart or failover), and `reserve` takes the budget records
from its caller (`known`) instead of reading them first. Team, key and budget changes are
WATCH/MULTI transactions; a ledger batch is one script (HSETNX makes a replay write nothing),
sent with the next settlement (`redis_rides`). With a `redis://` URL those round trips go over
the store's own multiplexed connection (`redis_wire`: about a sixth of redis-py's CPU per
pipeline); everything else, and every call with TLS or Sentinel, uses redis-py.

Key layout (prefix `tw`; `{...}` is the Cluster hash tag):

    {tw:meta}:teams|keys|keyhash|budgets           hashes of JSON records
    {tw:team:<name>}:c:<len>:<scope>:<period>:a|b  settled | in-flight micro-dollars
    {tw:team:<name>}:r:<len>:<scope>:<minute>:a|b  requests | tokens in one minute
    {tw:team:<name>}:res:<request id>              a reservation (its counters and amount)
    {tw:team:<name>}:leases                        reservations by lease end
    {tw:ledger}:rec, {tw:ledger}:ts, {tw:ledger}:team:<name>
    tw:tags (tags with reservations), tw:rid:<request id> (the tag a reservation lives under)
    {tw:state}<namespace>                          named state, a hash (PEXPIRE'd with a ttl)

Counters expire some time after their period (`windows.retain_until`); rate counters after two
minutes. A reservation made by this process is settled with one script call; one made by
another process is found through `tw:rid:` first.

A scope's tag is its team: `team:<name>` is tagged by the team, and `key:<id>` by the key's team,
so a request's team and key scopes share one slot. Any other scope is tagged by itself. Limit
with Cluster: one `reserve` may only combine scopes of one team (plus rate rules of that team);
a deployment-wide scope next to a team scope raises CROSSSLOT there. One Redis or a Sentinel
master has no such limit. Sentinel: the store URL `redis+sentinel://host:port/service/db`
(`router.store.open`), or a ready client passed as `client=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from router.store.accounting import BudgetPlan, budget_refusal, plan_budget, spend_view
from router.store.base import (
    BudgetRecord,
    BudgetRefusal,
    RateRefusal,
    RateRule,
    ReserveResult,
    SpendView,
    StoreUnavailable,
)
from router.store.redis_ledger import RedisLedger
from router.store.redis_lua import APPEND_LEDGER, RESERVE, SETTLE
from router.store.redis_principals import UNAVAILABLE, guarded, text, texts
from router.store.redis_rides import Rides
from router.store.redis_wire import Commands, Wire
from router.store.rules import (
    RATE_WINDOW,
    check_reserve,
    micros_up,
    minute_of,
    rate_limits,
    scope_owner,
    settle_micros,
    unique,
    usd,
)

RID_GRACE = 86_400.0  # how long past its lease a reservation stays findable by request id
Planned = list[tuple[BudgetPlan, str]]


def counter_keys(tag: str, kind: str, scope: str, period: str) -> tuple[str, str]:
    """The two counters of a scope in one period (or minute); the scope's length keeps names
    unambiguous whatever characters a scope holds."""
    base = f"{tag}:{kind}:{len(scope)}:{scope}:{period}"
    return base + ":a", base + ":b"


class RedisStore(RedisLedger):
    def __init__(
        self,
        url: str | None = None,
        *,
        client: aioredis.Redis | None = None,
        prefix: str = "tw",
        owned: bool = False,
    ) -> None:
        """`client`: a ready client (a Sentinel master's); `owned`: close it with the store."""
        if (url is None) == (client is None):
            raise ValueError("RedisStore needs a url or a client")
        super().__init__(prefix)
        self.url = url
        self._given = client
        self._opened: aioredis.Redis | None = client if owned else None
        self._held: dict[str, list[str]] = {}  # request id -> its settle KEYS (this process)
        self._rides = Rides(self._ride_alone)  # ledger batches waiting for a settlement
        self._wire: Wire | None = None  # the request path's connection (`redis_wire`)

    async def open(self) -> RedisStore:
        if self._given is not None:
            self.client = self._given
        else:
            assert self.url is not None
            self.client = self._opened = aioredis.Redis.from_url(self.url, decode_responses=True)
        try:
            await self.client.ping()
        except UNAVAILABLE as exc:
            await self.close()
            raise StoreUnavailable(f"Redis store {self.url or ''}: {exc}") from exc
        try:
            await self._load_scripts()
        except UNAVAILABLE as exc:
            await self.close()
            raise StoreUnavailable(f"Redis store {self.url or ''}: {exc}") from exc
        if self._given is None and self.url is not None:
            self._wire = Wire.from_url(self.url)
        return self

    async def _load_scripts(self) -> None:
        pipe = self.client.pipeline(transaction=False)
        for script in (RESERVE, SETTLE, APPEND_LEDGER):
            pipe.script_load(script)
        self._reserve_sha, self._settle_sha, self._append_sha = map(text, await pipe.execute())

    async def _round_trip(
        self, build: Callable[[Commands], object], *, ride: bool = False
    ) -> list[Any]:
        """Send what `build` queues as one pipeline (one round trip), with the queued ledger
        batches when `ride` (`redis_rides`); when the server has lost the scripts (restarted,
        failed over), load them and send it again (every command sent with a script here is
        idempotent)."""
        for attempt in (1, 2):
            commands = Commands()
            build(commands)
            own = len(commands)
            rides = self._rides.board(commands) if ride else []
            try:
                replies = await self._send(commands)
            except asyncio.CancelledError:
                self._rides.missed(rides)
                raise
            except Exception as exc:
                self._rides.fail(rides, exc)
                raise
            lost = self._rides.land(rides, replies[own:])
            mine = replies[:own]
            if attempt == 1 and any(isinstance(reply, NoScriptError) for reply in mine):
                await self._load_scripts()
                continue
            for reply in mine:
                if isinstance(reply, Exception):
                    raise reply
            if lost:  # a ride's script was missing, not ours: what we sent is done either way
                with contextlib.suppress(*UNAVAILABLE):
                    await self._load_scripts()
            return mine
        raise AssertionError("unreachable")

    async def _send(self, commands: Commands) -> list[Any]:
        """One round trip: on the store's own connection (`redis_wire`) when it has one, else
        as a redis-py pipeline (TLS, Sentinel, a client given to the store)."""
        if self._wire is not None:
            return await self._wire.execute(commands.queued)
        pipe = self.client.pipeline(transaction=False)
        for command in commands.queued:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))

    async def _ride_alone(self) -> list[Any]:
        return await self._round_trip(lambda pipe: None, ride=True)

    async def close(self) -> None:
        self._rides.close(StoreUnavailable("Redis store: closed"))
        if self._wire is not None:
            await self._wire.close()
            self._wire = None
        if self._opened is not None:
            await self._opened.aclose()
            manager = getattr(self._opened.connection_pool, "sentinel_manager", None)
            for sentinel in getattr(manager, "sentinels", ()):  # a Sentinel master's watchers
                await sentinel.aclose()
            self._opened = None

    async def get_state(self, namespace: str) -> dict[str, str]:
        try:
            raw = await self.client.hgetall(self._tagged("state") + namespace)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis store: {exc}") from exc
        return {str(k): str(v) for k, v in raw.items()}

    async def put_state(
        self, namespace: str, values: Mapping[str, str], ttl_seconds: float | None = None
    ) -> None:
        key = self._tagged("state") + namespace
        try:
            if ttl_seconds is not None and ttl_seconds <= 0:
                await self.client.delete(key)
                return
            if not values:
                if ttl_seconds is not None:
                    await self.client.pexpire(key, max(1, math.ceil(ttl_seconds * 1000)))
                return
            mapping = {str(k): str(v) for k, v in values.items()}
            if ttl_seconds is None:
                await self.client.hset(key, mapping=mapping)  # type: ignore[arg-type]
                return
            async with self.client.pipeline(transaction=True) as pipe:  # one MULTI/EXEC
                pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
                pipe.pexpire(key, max(1, math.ceil(ttl_seconds * 1000)))
                await pipe.execute()
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis store: {exc}") from exc

    def _tagged(self, tag: str) -> str:
        return "{" + f"{self.prefix}:{tag}" + "}"

    async def _tag(self, scope: str) -> str:
        owner = scope_owner(scope)
        if owner is None:
            return self._tagged(scope)
        kind, name = owner
        team = name if kind == "team" else await self._team_of_key(name)
        return self._tagged(scope if team is None else f"team:{team}")

    async def _plans(
        self, scopes: Sequence[str], now: float, known: Mapping[str, BudgetRecord] | None = None
    ) -> Planned:
        found = await self.get_budgets(unique(scopes)) if known is None else known
        wanted = [s for s in unique(scopes) if s in found]
        return [(plan_budget(found[s], now), await self._tag(s)) for s in wanted]

    async def _counts(self, planned: Planned) -> list[tuple[int, int]]:
        pipe = self.client.pipeline(transaction=False)
        for plan, tag in planned:
            for period in plan.periods:
                for key in counter_keys(tag, "c", plan.scope, period):
                    pipe.get(key)
        values = [int(v or 0) for v in await pipe.execute()]
        counts, at = [], 0
        for plan, _ in planned:
            chunk = values[at : at + 2 * len(plan.periods)]
            counts.append((sum(chunk[0::2]), sum(chunk[1::2])))
            at += len(chunk)
        return counts

    @guarded
    async def reserve(
        self,
        request_id: str,
        scopes: Sequence[str],
        amount: Decimal,
        lease_seconds: float,
        now: float,
        *,
        minimum: Decimal | None = None,
        rate: Sequence[RateRule] = (),
        tokens: int = 0,
        known: Mapping[str, BudgetRecord] | None = None,
    ) -> ReserveResult:
        check_reserve(amount, minimum, lease_seconds, tokens)
        planned = await self._plans(scopes, now, known)
        rate_tags = [await self._tag(rule.scope) for rule in rate]
        tags = [tag for _, tag in planned] + rate_tags
        want = micros_up(amount)
        need = want if minimum is None else micros_up(minimum)
        if not tags:
            return ReserveResult(True, reserved=usd(want))
        home, minute = tags[0], minute_of(now)
        keys = [f"{home}:res:{request_id}", f"{home}:leases"]
        for rule, tag in zip(rate, rate_tags, strict=True):
            keys.extend(counter_keys(tag, "r", rule.scope, str(minute)))
        for plan, tag in planned:
            for period in plan.periods:
                keys.extend(counter_keys(tag, "c", plan.scope, period))
        plan_args = {
            "now": now,
            "amount": want,
            "need": need,
            "tokens": tokens,
            "rates": [[rpm, tpm, 2 * RATE_WINDOW] for rpm, tpm in rate_limits(rate)],
            "budgets": [
                [int(p.hard), p.limit, len(p.periods), -1 if p.end is None else round(p.retain)]
                for p, _ in planned
            ],
        }
        args = [json.dumps(plan_args), repr(now + lease_seconds), request_id]

        def build(pipe: Commands) -> None:
            pipe.set(f"{self.prefix}:rid:{request_id}", home, ex=round(lease_seconds + RID_GRACE))
            pipe.evalsha(self._reserve_sha, len(keys), *keys, *args)
            pipe.sadd(f"{self.prefix}:tags", home)

        answer = (await self._round_trip(build))[1]
        answer[0] = text(answer[0])
        if answer[0] == "dup":
            raise ValueError(f"reservation {request_id!r} is already in flight")
        if answer[0] == "ok":
            if planned:
                held = [k for p, t in planned for k in counter_keys(t, "c", p.scope, p.current)]
                self._held[request_id] = keys[:2] + held
            return ReserveResult(True, reserved=usd(int(answer[1])))
        return ReserveResult(False, refusal=_refusal(answer, planned, rate, need, tokens, minute))

    @guarded
    async def settle(self, request_id: str, actual: Decimal, now: float) -> bool:
        micros = str(settle_micros(actual))
        keys = self._held.pop(request_id, None) or await self._find(request_id)
        return keys is not None and await self._settle_keys(keys, micros, request_id, now)

    async def _settle_keys(self, keys: list[str], actual: str, request_id: str, now: float) -> bool:
        def build(pipe: Commands) -> None:
            pipe.evalsha(self._settle_sha, len(keys), *keys, actual, request_id, repr(now))
            pipe.delete(f"{self.prefix}:rid:{request_id}")

        settled, _ = await self._round_trip(build, ride=True)
        return bool(settled)

    async def _find(self, request_id: str, home: str | None = None) -> list[str] | None:
        """The settle KEYS of a reservation made elsewhere (another process, or a lost one)."""
        if home is None:
            found = await self.client.get(f"{self.prefix}:rid:{request_id}")
            if found is None:
                return None
            home = text(found)
        keys = [f"{home}:res:{request_id}", f"{home}:leases"]
        raw = await self.client.hget(keys[0], "entries")
        if raw is None:
            return None
        return keys + [key for entry in json.loads(text(raw)) for key in entry[:2]]

    @guarded
    async def expire(self, now: float) -> int:
        expired = 0
        homes = texts(await self.client.smembers(f"{self.prefix}:tags"))
        pipe = self.client.pipeline(transaction=False)
        for home in homes:
            pipe.zrangebyscore(f"{home}:leases", "-inf", now)
        for home, ended in zip(homes, await pipe.execute(), strict=True):
            for request_id in texts(ended):
                self._held.pop(request_id, None)
                keys = await self._find(request_id, home)
                if keys is None:
                    await self.client.zrem(f"{home}:leases", request_id)
                    continue
                expired += await self._settle_keys(keys, "", request_id, now)
        return expired

    @guarded
    async def spend(self, scope: str, now: float) -> SpendView | None:
        planned = await self._plans([scope], now)
        if not planned:
            return None
        return spend_view(planned[0][0], *(await self._counts(planned))[0])

    @guarded
    async def max_affordable(self, scopes: Sequence[str], now: float) -> Decimal | None:
        planned = [(p, tag) for p, tag in await self._plans(scopes, now) if p.hard]
        if not planned:
            return None
        counts = await self._counts(planned)
        rooms = [p.limit - s - f for (p, _), (s, f) in zip(planned, counts, strict=True)]
        return usd(max(0, min(rooms)))


def _refusal(
    answer: list[Any],
    planned: Planned,
    rate: Sequence[RateRule],
    need: int,
    tokens: int,
    minute: int,
) -> BudgetRefusal | RateRefusal:
    """The refusal the reserve script answered, as the other backends describe it."""
    if answer[0] == "budget":
        plan = planned[int(answer[1]) - 1][0]
        return budget_refusal(plan, int(answer[2]), int(answer[3]), need)
    rule = rate[int(answer[1]) - 1]
    resets = float(minute + RATE_WINDOW)
    if answer[0] == "rpm":
        return RateRefusal(rule.scope, "rpm", rule.rpm or 0, int(answer[2]), 1, resets)
    return RateRefusal(rule.scope, "tpm", rule.tpm or 0, int(answer[2]), tokens, resets)
