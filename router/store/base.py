"""The store: one async interface for teams, keys, budgets, rate limits and the spend ledger.

Three backends implement `Store`: `MemoryStore` (tests), `SQLiteStore` (the embedded default:
one machine, several processes may share the file) and `RedisStore` (several replicas). One
contract suite (tests/unit/store/test_contract.py) holds them to the same behaviour.

Money is `Decimal`. Budget counters are kept in integer micro-dollars: a reservation and a settled
cost are rounded *up* to the next micro-dollar and a limit *down*, so counters never undercount
(the error is under one micro-dollar per request). The ledger keeps exact decimals.

Budgets and reservations (see `reserve`): spend is counted per budget window (`windows.py`).
A reservation holds an amount in flight in every budgeted scope of a request until it is
settled with the real cost, or until its lease ends and `expire` settles it. An expired lease
means the process that reserved died, so `expire` counts the reservation as spent at its
reserved amount: reservations are worst-case estimates, so this never underestimates spend,
and the ledger, written from the real usage, stays the record of truth. A late `settle` after
`expire` does nothing. Leases are not renewed: choose one longer than the longest request.
`expire` must be called periodically (the app runs it on a timer); `reserve` does not expire
leases on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from router.store.windows import parse_window, zone

ZERO = Decimal(0)
# The largest limit: counters hold integer micro-dollars, and Redis's scripts do arithmetic in
# doubles, exact to 2^53 (about 9e15 micro-dollars).
MAX_LIMIT_USD = Decimal(10**9)
GroupBy = Literal["team", "model", "day"]


class StoreUnavailable(RuntimeError):
    """The backing store cannot be reached or is locked past its timeout."""


@dataclass(frozen=True)
class TeamRecord:
    name: str
    created_at: float
    policy: str | None = None


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    team: str
    key_sha256: str
    name: str | None
    created_at: float
    expires_at: float | None = None
    models: tuple[str, ...] = ()  # allow-list; empty allows every model
    revoked: bool = False
    budget_usd: Decimal | None = None
    rpm: int | None = None
    tpm: int | None = None

    def active(self, now: float) -> bool:
        return not self.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class BudgetRecord:
    """A USD limit on a scope (`team:<name>`, `key:<key id>`, or any other name).

    A hard budget refuses reservations past its limit; a soft one only counts, and the caller
    reacts at `soft_threshold` (a fraction of the limit, in (0, 1]) by switching to
    `soft_policy`.
    """

    scope: str
    limit_usd: Decimal
    window: str = "month"
    tz: str = "UTC"
    hard: bool = True
    soft_threshold: Decimal | None = None
    soft_policy: str | None = None

    def __post_init__(self) -> None:
        if not self.scope:
            raise ValueError("a budget needs a scope, e.g. 'team:research'")
        if not self.limit_usd.is_finite() or not 0 <= self.limit_usd <= MAX_LIMIT_USD:
            raise ValueError(
                f"budget {self.scope}: limit_usd must be a number from 0 to {MAX_LIMIT_USD:,}"
            )
        if self.soft_threshold is not None and not ZERO < self.soft_threshold <= 1:
            raise ValueError(f"budget {self.scope}: soft_threshold is a fraction in (0, 1]")
        parse_window(self.window)
        zone(self.tz)


@dataclass(frozen=True)
class RateRule:
    """Requests and tokens per minute for a scope (fixed 60 s windows aligned on the epoch)."""

    scope: str
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True)
class BudgetRefusal:
    scope: str
    settled: Decimal
    in_flight: Decimal
    limit: Decimal
    requested: Decimal  # the amount that did not fit (the minimum, when one was given)
    resets_at: float | None  # end of the window; None for `total`
    kind: Literal["budget"] = "budget"

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.limit - self.settled - self.in_flight)


@dataclass(frozen=True)
class RateRefusal:
    scope: str
    rule: Literal["rpm", "tpm"]
    limit: int
    used: int
    requested: int
    resets_at: float
    kind: Literal["rate"] = "rate"


@dataclass(frozen=True)
class ReserveResult:
    ok: bool
    reserved: Decimal = ZERO
    refusal: BudgetRefusal | RateRefusal | None = None


@dataclass(frozen=True)
class SpendView:
    scope: str
    settled: Decimal
    in_flight: Decimal
    limit: Decimal
    window_start: float
    window_end: float | None  # None for `total`

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.limit - self.settled - self.in_flight)


@dataclass(frozen=True)
class LedgerRecord:
    """One request's spend. Append-only; `request_id` is unique."""

    ts: float
    request_id: str
    team: str
    key_id: str | None = None
    user: str | None = None
    endpoint: str = "chat.completions"
    requested_model: str = ""
    routed_model: str = ""
    provider: str = ""
    category: str | None = None
    tier: str | None = None
    effort: str | None = None
    input_uncached_tokens: int = 0
    input_cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    output_tokens: int = 0
    cost_input: Decimal = ZERO
    cost_cached_input: Decimal = ZERO
    cost_cache_write: Decimal = ZERO
    cost_reasoning: Decimal = ZERO
    cost_output: Decimal = ZERO
    cost_total: Decimal = ZERO
    upstream_cost: Decimal | None = None  # what the upstream said it cost, when it says
    savings: Decimal | None = None  # an estimate (counterfactual), None when not computed
    estimated: bool = False  # tokens were counted locally, not reported by the upstream
    status: str = "ok"
    latency_ms: float = 0.0
    ttft_ms: float | None = None


@dataclass(frozen=True)
class LedgerTotal:
    key: str  # the team, the routed model, or the day (YYYY-MM-DD)
    requests: int = 0
    input_uncached_tokens: int = 0
    input_cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    output_tokens: int = 0
    cost_input: Decimal = ZERO
    cost_cached_input: Decimal = ZERO
    cost_cache_write: Decimal = ZERO
    cost_reasoning: Decimal = ZERO
    cost_output: Decimal = ZERO
    cost_total: Decimal = ZERO
    savings: Decimal = ZERO


class Store(Protocol):
    """Every method is atomic on its own; `reserve` is atomic over all its scopes and rules."""

    async def close(self) -> None: ...

    # Small named state (the router's learned token figures, the Responses API's response ids):
    # string values under a namespace; `put_state` upserts the given keys and leaves the others.
    # With `ttl_seconds` the whole namespace expires that long after the call (a later put with
    # a ttl sets a new expiry, one without leaves it as it is; zero or less deletes the namespace
    # at once). An expired namespace reads as empty and its storage is reclaimed: Redis expires
    # the key itself; SQLite and memory purge expired namespaces on writes and in `expire`.
    async def get_state(self, namespace: str) -> dict[str, str]: ...
    async def put_state(
        self, namespace: str, values: Mapping[str, str], ttl_seconds: float | None = None
    ) -> None: ...

    # Teams and keys. `put_key` needs the team to exist, refuses a digest held by another key
    # and refuses to move a key to another team (ValueError). `delete_team` also deletes the
    # team's keys and the budgets of the team and its keys. `key_by_hash` returns revoked and
    # expired keys too: check `KeyRecord.active(now)`.
    async def put_team(self, team: TeamRecord) -> None: ...
    async def get_team(self, name: str) -> TeamRecord | None: ...
    async def list_teams(self) -> list[TeamRecord]: ...
    async def delete_team(self, name: str) -> bool: ...
    async def put_key(self, key: KeyRecord) -> None: ...
    async def get_key(self, key_id: str) -> KeyRecord | None: ...
    async def key_by_hash(self, key_sha256: str) -> KeyRecord | None: ...
    async def list_keys(self, team: str | None = None) -> list[KeyRecord]: ...
    async def revoke_key(self, key_id: str) -> bool: ...

    # Budgets. A `team:<name>` or `key:<id>` budget needs its team or key to exist.
    async def put_budget(self, budget: BudgetRecord) -> None: ...
    async def get_budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]: ...
    async def list_budgets(self) -> list[BudgetRecord]: ...
    async def delete_budget(self, scope: str) -> bool: ...

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
        """Hold `amount` in every budgeted scope, and count one request and `tokens` against
        every rate rule, all or nothing.

        `known`: the budget records of `scopes` as the caller last read them (a scope missing
        from it has none). A backend that reads records locally ignores it; Redis uses it to
        spare a round trip, so there a limit changed elsewhere applies once the caller's view
        is refreshed (`budgets.refresh_seconds`); the counters are checked atomically either way.

        Rate rules are checked first, in order, then hard budgets, in scope order; the first
        that does not fit is the refusal. A budget fits when settled + in flight + amount <=
        limit. With `minimum`, a budget that cannot cover `amount` but can cover `minimum`
        fits, and the reservation holds what the tightest budget can still cover
        (`ReserveResult.reserved`). Scopes without a budget hold nothing. A request id already
        in flight raises ValueError.
        """
        ...

    async def max_affordable(self, scopes: Sequence[str], now: float) -> Decimal | None:
        """The least `limit - settled - in flight` over the hard budgets (None: no budget)."""
        ...

    async def settle(self, request_id: str, actual: Decimal, now: float) -> bool:
        """Release the reservation and add `actual` to the period it was made in, in every
        scope. False when there is nothing to settle (already settled or expired)."""
        ...

    async def expire(self, now: float) -> int:
        """Settle at their reserved amount the reservations whose lease ended by `now`."""
        ...

    async def spend(self, scope: str, now: float) -> SpendView | None: ...

    # The ledger. Appending a record whose request id is already there does nothing, so a
    # spool can be replayed; `append_ledger` returns how many records were new. Queries return
    # records by time (then request id), `since` inclusive, `until` exclusive; `limit` keeps
    # the latest ones. Totals are exact decimals grouped by team, routed model or UTC day.
    async def append_ledger(self, records: Sequence[LedgerRecord]) -> int: ...
    async def query_ledger(
        self,
        team: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[LedgerRecord]: ...
    async def ledger_totals(
        self, group_by: GroupBy, since: float | None = None, until: float | None = None
    ) -> list[LedgerTotal]: ...
