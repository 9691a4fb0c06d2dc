"""Costs below a micro-dollar are carried, not rounded up per request: a budget's counter holds
the summed cost of its requests rounded down, never ten times a cheap request's cost."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from router.budget.carry import Carry

TEAM = ["team:t", "key:k"]


def test_fifty_cheap_embeddings_count_what_they_cost() -> None:
    carry = Carry()
    counted = sum((carry.counted(TEAM, D("0.0000001")) for _ in range(50)), D(0))
    assert counted == D("0.000005")  # rounded up each, they counted 0.00005


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=60))
def test_the_counter_is_the_summed_cost_rounded_down(nanos: list[int]) -> None:
    carry = Carry()
    costs = [D(n).scaleb(-9) for n in nanos]
    counted = [carry.counted(TEAM, cost) for cost in costs]
    assert all(c == c.quantize(D("0.000001")) for c in counted)  # whole micro-dollars
    total = sum(costs, D(0))
    assert sum(counted, D(0)) == total.quantize(D("0.000001"), rounding="ROUND_FLOOR")


def test_other_scopes_carry_their_own() -> None:
    carry = Carry()
    assert carry.counted(TEAM, D("0.0000007")) == 0
    assert carry.counted(["team:t", "key:other"], D("0.0000007")) == 0
    assert carry.counted(TEAM, D("0.0000007")) == D("0.000001")
