"""Small made-up benchmark items and classifications for the evaluation tests."""

from __future__ import annotations

from decimal import Decimal

from router.classify.labels import Category, Classification, Tier
from router.classify.public_data import Item, Outcome
from router.evaluate.replay import Replayed


def classified(category: Category = "math", tier: Tier = "hard") -> Classification:
    return Classification(category, tier, 0.8, "high", 0.9, {})


def economy_item(prompt: str, outcomes: dict[str, tuple[float, float]]) -> Item:
    """`outcomes`: model -> (correctness, completion tokens)."""
    return Item(
        "token-economy",
        prompt,
        "math",
        (prompt,),
        prompt,
        "",
        {m: Outcome(correct=c, completion_tokens=t) for m, (c, t) in outcomes.items()},
    )


def bench_item(sid: str, split: str, outcomes: dict[str, tuple[float, str]]) -> Item:
    """`outcomes`: model -> (correctness, USD per call)."""
    return Item(
        "routerbench",
        sid,
        "arc-challenge",
        (sid,),
        sid,
        split,
        {m: Outcome(correct=c, cost_usd=Decimal(usd)) for m, (c, usd) in outcomes.items()},
    )


def replayed(item: Item, c: Classification) -> Replayed:
    return Replayed(item, c, 0.0)
