"""The store contract: budgets, reservations and rate limits, the same on every backend.

Each test runs against MemoryStore, SQLiteStore and RedisStore (a real redis-server); see
conftest.py. Team and key records are in test_contract_principals.py, the ledger in
test_contract_ledger.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from router.budget.flight import Gate
from router.budget.reset import rolling_reset
from router.store.base import (
    BudgetRecord,
    BudgetRefusal,
    KeyRecord,
    RateRefusal,
    RateRule,
    Store,
    TeamRecord,
)
from tests.unit.store.conftest import Opener

D = Decimal
T0 = datetime(2024, 3, 15, 12, 0, tzinfo=UTC).timestamp()
DAY_END = datetime(2024, 3, 16, tzinfo=UTC).timestamp()
LEASE = 60.0


def usd(*amounts: int | str) -> tuple[Decimal, ...]:
    return tuple(Decimal(a) for a in amounts)


async def team_with_key(store: Store, team: str = "research", key_id: str = "k1") -> None:
    await store.put_team(TeamRecord(team, T0))
    digest = hashlib.sha256(key_id.encode()).hexdigest()
    await store.put_key(KeyRecord(key_id, team, digest, None, T0))


async def budget(store: Store, scope: str, limit: str, window: str = "day", **kw: object) -> None:
    await store.put_budget(BudgetRecord(scope, D(limit), window, **kw))  # type: ignore[arg-type]


async def test_reserve_then_settle_moves_money_from_in_flight_to_settled(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    result = await store.reserve("r1", ["team:research"], D("3"), LEASE, T0)
    assert result.ok and result.reserved == D("3") and result.refusal is None
    view = await store.spend("team:research", T0)
    assert view is not None
    assert (view.settled, view.in_flight, view.limit, view.remaining) == usd(0, 3, 10, 7)
    assert (view.window_start, view.window_end) == (T0 - 12 * 3600, DAY_END)
    assert await store.settle("r1", D("2.5"), T0 + 1)
    view = await store.spend("team:research", T0 + 1)
    assert view is not None and (view.settled, view.in_flight) == usd("2.5", 0)


async def test_a_changed_budget_applies_to_the_next_reservation(store: Store) -> None:
    # the records a store reads per reservation may be remembered, never past a change
    await team_with_key(store)
    await budget(store, "team:research", "10")
    assert (await store.reserve("r1", ["team:research"], D("4"), LEASE, T0)).ok
    await budget(store, "team:research", "5")
    refused = await store.reserve("r2", ["team:research"], D("4"), LEASE, T0)
    assert not refused.ok and refused.refusal is not None
    await budget(store, "team:research", "10", window="month")  # a fresh count
    assert (await store.reserve("r3", ["team:research"], D("4"), LEASE, T0)).ok
    view = await store.spend("team:research", T0)
    assert view is not None and view.limit == D("10") and view.in_flight == D("4")


async def test_settle_is_idempotent(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await store.reserve("r1", ["team:research"], D("3"), LEASE, T0)
    assert await store.settle("r1", D("1"), T0)
    assert not await store.settle("r1", D("1"), T0)
    assert not await store.settle("never-reserved", D("1"), T0)
    view = await store.spend("team:research", T0)
    assert view is not None and (view.settled, view.in_flight) == usd(1, 0)


async def test_refusal_names_the_scope_and_what_is_in_flight(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await store.reserve("r1", ["team:research"], D("4"), LEASE, T0)
    await store.settle("r1", D("4"), T0)
    assert (await store.reserve("r2", ["team:research"], D("5"), LEASE, T0)).ok
    refused = await store.reserve("r3", ["team:research"], D("1.5"), LEASE, T0)
    assert not refused.ok and refused.reserved == 0
    assert refused.refusal == BudgetRefusal(
        scope="team:research",
        settled=D("4"),
        in_flight=D("5"),
        limit=D("10"),
        requested=D("1.5"),
        resets_at=DAY_END,
    )
    assert refused.refusal.remaining == 1
    assert (await store.reserve("r4", ["team:research"], D("1"), LEASE, T0)).ok


async def test_multi_scope_reserves_in_all_or_none(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await budget(store, "key:k1", "5")
    scopes = ["team:research", "key:k1", "user:alice"]  # alice has no budget: not counted
    assert (await store.reserve("r1", scopes, D("4"), LEASE, T0)).ok
    refused = await store.reserve("r2", scopes, D("3"), LEASE, T0)
    assert isinstance(refused.refusal, BudgetRefusal) and refused.refusal.scope == "key:k1"
    team = await store.spend("team:research", T0)
    key = await store.spend("key:k1", T0)
    assert team is not None and key is not None
    assert team.in_flight == 4 and key.in_flight == 4, "the refused request held nothing"
    assert await store.spend("user:alice", T0) is None
    assert await store.settle("r1", D("2"), T0)
    team, key = await store.spend("team:research", T0), await store.spend("key:k1", T0)
    assert team is not None and key is not None
    assert (team.settled, key.settled, team.in_flight, key.in_flight) == usd(2, 2, 0, 0)


async def test_minimum_reserves_what_the_tightest_budget_can_cover(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await budget(store, "key:k1", "6")
    assert await store.max_affordable(["team:research", "key:k1"], T0) == 6
    await store.reserve("r1", ["team:research"], D("5"), LEASE, T0)
    assert await store.max_affordable(["team:research", "key:k1"], T0) == 5
    cut = await store.reserve("r2", ["team:research", "key:k1"], D("8"), LEASE, T0, minimum=D("1"))
    assert cut.ok and cut.reserved == 5
    assert await store.max_affordable(["team:research", "key:k1"], T0) == 0
    refused = await store.reserve("r3", ["key:k1"], D("8"), LEASE, T0, minimum=D("1.5"))
    assert isinstance(refused.refusal, BudgetRefusal)
    assert (refused.refusal.scope, refused.refusal.requested) == ("key:k1", D("1.5"))
    assert refused.refusal.remaining == 1


async def test_max_affordable_ignores_soft_and_missing_budgets(store: Store) -> None:
    await team_with_key(store)
    assert await store.max_affordable(["team:research"], T0) is None
    await budget(store, "team:research", "1", hard=False, soft_threshold=D("0.8"))
    assert await store.max_affordable(["team:research"], T0) is None
    assert (await store.reserve("r1", ["team:research"], D("5"), LEASE, T0)).ok, "soft: no refusal"
    view = await store.spend("team:research", T0)
    assert view is not None and view.in_flight == 5 and view.remaining == 0


async def test_expired_leases_count_as_spent_at_the_reserved_amount(opener: Opener) -> None:
    store = await opener()
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await store.reserve("r1", ["team:research"], D("3"), 30.0, T0)
    await store.reserve("r2", ["team:research"], D("2"), 90.0, T0)
    assert await store.expire(T0 + 29) == 0
    other = await opener()  # the process that reserved is gone: another one expires
    assert await other.expire(T0 + 30) == 1
    view = await store.spend("team:research", T0 + 30)
    assert view is not None and (view.settled, view.in_flight) == usd(3, 2)
    assert not await store.settle("r1", D("1"), T0 + 31), "a late settle changes nothing"
    assert await store.settle("r2", D("1"), T0 + 31)
    assert await store.expire(T0 + 1000) == 0
    view = await other.spend("team:research", T0 + 31)
    assert view is not None and (view.settled, view.in_flight) == usd(4, 0)


async def test_settle_from_another_instance(opener: Opener) -> None:
    first, second = await opener(), await opener()
    await team_with_key(first)
    await budget(first, "team:research", "10")
    await budget(first, "key:k1", "10")
    await first.reserve("r1", ["team:research", "key:k1"], D("3"), LEASE, T0)
    assert await second.settle("r1", D("2"), T0)
    assert not await first.settle("r1", D("2"), T0)
    for scope in ("team:research", "key:k1"):
        view = await first.spend(scope, T0)
        assert view is not None and (view.settled, view.in_flight) == usd(2, 0)


async def test_a_request_id_in_flight_cannot_be_reserved_twice(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await store.reserve("r1", ["team:research"], D("1"), LEASE, T0)
    with pytest.raises(ValueError, match="already in flight"):
        await store.reserve("r1", ["team:research"], D("1"), LEASE, T0)
    await store.settle("r1", D("1"), T0)
    assert (await store.reserve("r1", ["team:research"], D("1"), LEASE, T0)).ok


async def test_amounts_round_up_to_the_micro_dollar(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "0.000003")
    result = await store.reserve("r1", ["team:research"], D("0.0000001"), LEASE, T0)
    assert result.reserved == D("0.000001")
    await store.settle("r1", D("0.0000011"), T0)
    view = await store.spend("team:research", T0)
    assert view is not None and view.settled == D("0.000002")


async def test_a_daily_window_rolls_over_at_midnight_in_its_zone(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10", tz="America/New_York")
    # 23:59:50 in New York on 15 March (EDT, UTC-4), 04:00 UTC on the 16th
    late = datetime(2024, 3, 16, 3, 59, 50, tzinfo=UTC).timestamp()
    assert (await store.reserve("r1", ["team:research"], D("9"), LEASE, late)).ok
    next_day = late + 20
    fresh = await store.spend("team:research", next_day)
    assert fresh is not None and (fresh.settled, fresh.in_flight) == usd(0, 0)
    assert fresh.window_start == late + 10
    assert (await store.reserve("r2", ["team:research"], D("9"), LEASE, next_day)).ok
    await store.settle("r1", D("7"), next_day)  # settles into the day it was reserved in
    before = await store.spend("team:research", late)
    after = await store.spend("team:research", next_day)
    assert before is not None and after is not None
    assert (before.settled, before.in_flight) == usd(7, 0)
    assert (after.settled, after.in_flight) == usd(0, 9)


async def test_a_rolling_window_forgets_spend_after_its_length(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10", window="rolling:3600")
    await store.reserve("r1", ["team:research"], D("6"), LEASE, T0)
    await store.settle("r1", D("6"), T0)
    refused = await store.reserve("r2", ["team:research"], D("5"), LEASE, T0 + 3599)
    assert isinstance(refused.refusal, BudgetRefusal)
    assert refused.refusal.resets_at == T0 + 3600, "the next bucket boundary"
    view = await store.spend("team:research", T0 + 3600 + 60)  # one 60 s bucket later
    assert view is not None and view.settled == 0
    assert (await store.reserve("r3", ["team:research"], D("5"), LEASE, T0 + 3660)).ok


async def test_a_total_budget_never_resets(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10", window="total")
    await store.reserve("r1", ["team:research"], D("6"), LEASE, T0)
    await store.settle("r1", D("6"), T0)
    years_later = T0 + 5 * 365 * 86400
    refused = await store.reserve("r2", ["team:research"], D("5"), LEASE, years_later)
    assert isinstance(refused.refusal, BudgetRefusal) and refused.refusal.resets_at is None
    view = await store.spend("team:research", years_later)
    assert view is not None and view.settled == 6 and view.window_end is None


async def test_rate_limits_count_requests_and_tokens_per_minute(store: Store) -> None:
    await team_with_key(store)
    rules = [RateRule("key:k1", rpm=3), RateRule("team:research", tpm=100)]
    minute = T0 - T0 % 60
    for i in range(2):
        assert (await store.reserve(f"a{i}", [], D(0), LEASE, minute + i, rate=rules, tokens=40)).ok
    tpm = await store.reserve("a2", [], D(0), LEASE, minute + 2, rate=rules, tokens=40)
    assert tpm.refusal == RateRefusal("team:research", "tpm", 100, 80, 40, minute + 60)
    assert (await store.reserve("a3", [], D(0), LEASE, minute + 3, rate=rules, tokens=20)).ok
    rpm = await store.reserve("a4", [], D(0), LEASE, minute + 4, rate=rules, tokens=0)
    assert rpm.refusal == RateRefusal("key:k1", "rpm", 3, 3, 1, minute + 60)
    assert (await store.reserve("a5", [], D(0), LEASE, minute + 60, rate=rules, tokens=90)).ok


async def test_rate_and_budget_refusals_leave_every_counter_alone(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    rules = [RateRule("team:research", rpm=2)]
    scopes = ["team:research"]
    assert (await store.reserve("r1", scopes, D("8"), LEASE, T0, rate=rules)).ok
    over_budget = await store.reserve("r2", scopes, D("8"), LEASE, T0, rate=rules)
    assert isinstance(over_budget.refusal, BudgetRefusal)
    assert (await store.reserve("r3", scopes, D("1"), LEASE, T0, rate=rules)).ok, "r2 not counted"
    over_rate = await store.reserve("r4", scopes, D("1"), LEASE, T0, rate=rules)
    assert isinstance(over_rate.refusal, RateRefusal) and over_rate.refusal.used == 2
    view = await store.spend("team:research", T0)
    assert view is not None and view.in_flight == 9, "r4 held no money"


async def test_changing_a_limit_keeps_the_count(store: Store) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    await store.reserve("r1", ["team:research"], D("6"), LEASE, T0)
    await budget(store, "team:research", "5")
    view = await store.spend("team:research", T0)
    assert view is not None and (view.in_flight, view.limit, view.remaining) == usd(6, 5, 0)
    assert not (await store.reserve("r2", ["team:research"], D("1"), LEASE, T0)).ok


async def test_concurrent_reservations_never_exceed_the_limit(opener: Opener) -> None:
    first, second = await opener(), await opener()
    await team_with_key(first)
    await budget(first, "team:research", "10")
    scopes = ["team:research", "key:k1"]
    results = await asyncio.gather(
        *(
            (first if i % 2 else second).reserve(f"c{i}", scopes, D("0.25"), LEASE, T0)
            for i in range(200)
        )
    )
    assert sum(r.ok for r in results) == 40
    assert sum(r.reserved for r in results) == D("10")
    view = await first.spend("team:research", T0)
    assert view is not None and view.in_flight == 10
    for i, r in enumerate(results):
        assert not r.ok or await (first if i % 3 else second).settle(f"c{i}", D("0.1"), T0)
    view = await second.spend("team:research", T0)
    assert view is not None and (view.settled, view.in_flight) == usd("4", 0)


async def test_concurrent_settles_of_one_reservation_count_once(opener: Opener) -> None:
    first, second = await opener(), await opener()
    await team_with_key(first)
    await budget(first, "team:research", "10")
    await first.reserve("r1", ["team:research"], D("3"), LEASE, T0)
    outcomes = await asyncio.gather(
        *((first, second)[i % 2].settle("r1", D("2"), T0) for i in range(10))
    )
    assert sum(outcomes) == 1
    view = await first.spend("team:research", T0)
    assert view is not None and (view.settled, view.in_flight) == usd(2, 0)


async def test_bad_reservations_are_refused_before_touching_anything(store: Store) -> None:
    for amount, minimum, lease in ((D(-1), None, LEASE), (D(1), D(2), LEASE), (D(1), None, 0)):
        with pytest.raises(ValueError):
            await store.reserve("bad", ["team:x"], amount, lease, T0, minimum=minimum)
    with pytest.raises(ValueError):
        await store.settle("bad", D(-1), T0)


async def test_reserve_with_the_callers_budget_records_enforces_the_same_limits(
    store: Store,
) -> None:
    await team_with_key(store)
    await budget(store, "team:research", "10")
    scopes = ["team:research", "key:k1"]
    known = await store.get_budgets(scopes)
    assert list(known) == ["team:research"]
    first = await store.reserve("r1", scopes, D("6"), LEASE, T0, known=known)
    assert first.ok and first.reserved == D("6")
    second = await store.reserve("r2", scopes, D("6"), LEASE, T0, known=known)
    assert not second.ok and isinstance(second.refusal, BudgetRefusal)
    assert second.refusal.scope == "team:research"
    assert await store.settle("r1", D("1"), T0 + 1)
    view = await store.spend("team:research", T0 + 1)
    assert view is not None and (view.settled, view.in_flight) == usd(1, 0)


async def test_a_rolling_refusal_names_when_enough_spend_has_left(store: Store) -> None:
    """Spend of 3, 3 and 3 at T0, T0+600 and T0+1200 in a one-hour window with a limit of 10:
    a request of 5 at T0+1300 fits once the first two have left (each leaves up to a bucket
    late), not at the next bucket boundary, which frees nothing."""
    await team_with_key(store)
    await budget(store, "team:research", "10", window="rolling:3600")
    for n, at in enumerate((T0, T0 + 600, T0 + 1200)):
        await store.reserve(f"r{n}", ["team:research"], D("3"), LEASE, at)
        await store.settle(f"r{n}", D("3"), at)
    refused = await store.reserve("late", ["team:research"], D("5"), LEASE, T0 + 1300)
    refusal = refused.refusal
    assert isinstance(refusal, BudgetRefusal) and refusal.resets_at == T0 + 1320
    record = BudgetRecord("team:research", D(10), "rolling:3600")
    later = await rolling_reset(store, Gate(4, 5.0), refusal, record)
    at = later.resets_at
    assert at is not None and T0 + 600 + 3600 <= at <= T0 + 600 + 3600 + 60
    assert not (await store.reserve("early", ["team:research"], D("5"), LEASE, at - 60)).ok
    assert (await store.reserve("fits", ["team:research"], D("5"), LEASE, at)).ok
