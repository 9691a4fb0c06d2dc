"""Costs below a micro-dollar, carried from one settlement to the next.

Budget counters hold integer micro-dollars. Rounding each request's cost up to one overcounts
cheap requests: an embedding at $0.0000001 counted as $0.000001, so a budget refused at a tenth
of the real spend. Each process instead counts the whole micro-dollars of a request's cost plus
what earlier requests on the same scopes left over, and carries the rest: over any run of
requests a counter holds their summed cost rounded down, less than a micro-dollar per process
behind the ledger. What a process carries is lost when it stops (under a micro-dollar per set of
scopes). Pure; `Settler` holds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

MICRO = Decimal("0.000001")
ZERO = Decimal(0)
MAX_CARRIED = 100_000  # sets of scopes remembered; past it the oldest remainder is dropped


class Carry:
    def __init__(self) -> None:
        self._left: dict[tuple[str, ...], Decimal] = {}

    def counted(self, scopes: Sequence[str], cost: Decimal) -> Decimal:
        """What to settle for `cost` on `scopes`: whole micro-dollars, the rest carried."""
        key = tuple(scopes)
        total = cost + self._left.pop(key, ZERO)
        whole = total.quantize(MICRO, rounding=ROUND_FLOOR)
        if total > whole:
            if len(self._left) >= MAX_CARRIED:
                del self._left[next(iter(self._left))]
            self._left[key] = total - whole
        return whole
