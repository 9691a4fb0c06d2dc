"""When a refused rolling budget makes room again.

A rolling window counts spend in buckets, and the store's refusal names the next bucket
boundary as the window's end: the earliest moment anything can leave it, which may free too
little (a refusal every second, each naming the next second). On a refusal that settled spend
causes, `rolling_reset` asks the store for the window's spend at later boundaries (a binary
search: settled spend only falls as time passes, so at most 7 reads for the 61 buckets of any
window) and names the first at which the request fits. Only settled spend counts: what requests
in flight hold may still settle lower, and such a refusal keeps the next boundary.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from router.budget.flight import Gate, StoreTimeout
from router.store.base import BudgetRecord, BudgetRefusal, Store, StoreUnavailable
from router.store.windows import parse_window


async def rolling_reset(
    store: Store, gate: Gate, refusal: BudgetRefusal, budget: BudgetRecord | None
) -> BudgetRefusal:
    """`refusal` with `resets_at` the first boundary at which the request fits; as it was for
    any other window, for a refusal owed to spend in flight, or when the store cannot say."""
    if budget is None or refusal.resets_at is None:
        return refusal
    window = parse_window(budget.window)
    if window.kind != "rolling" or refusal.settled + refusal.requested <= refusal.limit:
        return refusal
    width = window.bucket
    buckets = -(-window.seconds // width) + 1  # past these, today's spend has all left
    boundaries = [refusal.resets_at + k * width for k in range(buckets)]
    low, high = 0, len(boundaries) - 1
    try:
        while low < high:
            middle = (low + high) // 2
            view = await gate.call(partial(store.spend, refusal.scope, boundaries[middle]))
            if view is not None and view.settled + refusal.requested > refusal.limit:
                low = middle + 1
            else:
                high = middle
    except (StoreUnavailable, StoreTimeout, TimeoutError):
        return refusal
    return replace(refusal, resets_at=boundaries[low])
