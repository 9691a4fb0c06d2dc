"""The store contract for the spend ledger, on every backend (see conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from router.store.base import LedgerRecord, LedgerTotal, Store
from tests.unit.store.conftest import Opener

D = Decimal
DAY1 = datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp()
DAY2 = datetime(2024, 5, 2, 23, 59, tzinfo=UTC).timestamp()


def record(request_id: str, ts: float, team: str, model: str, cost: str) -> LedgerRecord:
    """Input $3/M over 1,000 tokens and output $12.5/M over 33 tokens, plus `cost` in reasoning."""
    parts = (D("0.003"), D("0"), D("0"), D(cost), D("0.0004125"))
    return LedgerRecord(
        ts=ts,
        request_id=request_id,
        team=team,
        key_id="k1",
        requested_model="auto",
        routed_model=model,
        provider="sim",
        category="math",
        tier="hard",
        effort="high",
        input_uncached_tokens=1000,
        reasoning_tokens=7,
        output_tokens=33,
        cost_input=parts[0],
        cost_cached_input=parts[1],
        cost_cache_write=parts[2],
        cost_reasoning=parts[3],
        cost_output=parts[4],
        cost_total=sum(parts, D(0)),
        savings=D("0.01"),
        latency_ms=812.5,
        ttft_ms=120.25,
    )


LEDGER = [
    record("a", DAY1, "research", "sim-r1", "0.0000000375"),
    record("b", DAY1 + 60, "sales", "sim-small", "0"),
    record("c", DAY2, "research", "sim-small", "0.1"),
]


async def test_a_record_round_trips_exactly(store: Store) -> None:
    full = LEDGER[0]
    bare = LedgerRecord(ts=DAY2 + 0.123456, request_id="bare", team="t", estimated=True)
    assert await store.append_ledger([full, bare]) == 2
    assert await store.query_ledger() == [full, bare]


async def test_appending_is_idempotent_on_request_id(opener: Opener) -> None:
    store = await opener()
    assert await store.append_ledger(LEDGER[:2]) == 2
    replayed = await opener()  # e.g. a restarted process replaying its spool
    assert await replayed.append_ledger([LEDGER[1], LEDGER[2], LEDGER[2]]) == 1
    assert await replayed.append_ledger([]) == 0
    changed = record("a", DAY1, "research", "sim-r1", "9")
    assert await store.append_ledger([changed]) == 0, "the first record of an id stays"
    assert [r.request_id for r in await store.query_ledger()] == ["a", "b", "c"]
    assert (await store.query_ledger())[0] == LEDGER[0]


async def test_queries_filter_by_team_and_time(store: Store) -> None:
    await store.append_ledger(list(reversed(LEDGER)))
    assert [r.request_id for r in await store.query_ledger(team="research")] == ["a", "c"]
    assert [r.request_id for r in await store.query_ledger(since=DAY1 + 60)] == ["b", "c"]
    assert [r.request_id for r in await store.query_ledger(until=DAY1 + 60)] == ["a"]
    assert [r.request_id for r in await store.query_ledger(limit=2)] == ["b", "c"]
    assert [r.request_id for r in await store.query_ledger("research", limit=1)] == ["c"]
    assert await store.query_ledger(limit=0) == []
    assert await store.query_ledger(team="nobody") == []


async def test_ties_in_time_are_ordered_by_request_id(store: Store) -> None:
    same = [record(i, DAY1, "t", "m", "0") for i in ("x2", "x1", "x3")]
    await store.append_ledger(same)
    assert [r.request_id for r in await store.query_ledger()] == ["x1", "x2", "x3"]
    assert [r.request_id for r in await store.query_ledger(limit=2)] == ["x2", "x3"]


async def test_totals_are_exact_by_team_model_and_day(store: Store) -> None:
    await store.append_ledger(LEDGER)
    base = D("0.003") + D("0.0004125")
    by_team = await store.ledger_totals("team")
    assert [t.key for t in by_team] == ["research", "sales"]
    assert by_team[0] == LedgerTotal(
        key="research",
        requests=2,
        input_uncached_tokens=2000,
        reasoning_tokens=14,
        output_tokens=66,
        cost_input=D("0.006"),
        cost_reasoning=D("0.1000000375"),
        cost_output=D("0.000825"),
        cost_total=2 * base + D("0.1000000375"),
        savings=D("0.02"),
    )
    by_model = await store.ledger_totals("model")
    assert [(t.key, t.requests, t.cost_total) for t in by_model] == [
        ("sim-r1", 1, base + D("0.0000000375")),
        ("sim-small", 2, 2 * base + D("0.1")),
    ]
    by_day = await store.ledger_totals("day", since=DAY1, until=DAY2 + 1)
    assert [(t.key, t.requests) for t in by_day] == [("2024-05-01", 2), ("2024-05-02", 1)]
    only_first = await store.ledger_totals("day", until=DAY2)
    assert [(t.key, t.requests) for t in only_first] == [("2024-05-01", 2)]
