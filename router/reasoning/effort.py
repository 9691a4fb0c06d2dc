"""The effort ladder: parsing, rounding to what a model supports, and effort <-> token budgets.

Ladder: ``none < minimal < low < medium < high < xhigh < max``; ``none`` means reasoning off.

Rounding (INTERFACES.md, "Effort"): a level the model does not support rounds **up** to the
next supported level, so a client who asked for more thinking never gets less; when no
supported level is above, it rounds down to the highest one. ``none`` on a model that cannot
switch reasoning off is the same rule: it rounds up to the model's lowest level.

Budgets: token-budget upstreams use Google's published mapping (low 1024, medium 8192,
high 24576). The other levels are our choice:

* ``minimal`` -> 512: the smallest budget Gemini 2.5 Flash-Lite accepts, half of ``low``.
  Upstreams with a higher floor (Anthropic: 1024) raise it to their minimum in the adapter.
* ``xhigh`` -> 32768: the top of Gemini 2.5 Pro's range and the xhigh column of the
  reference's Anthropic mapping.
* ``max`` -> 64000: the output ceiling of the Claude 4.x models; adapters clamp it below the
  model's output cap anyway.

The budgets grow strictly along the ladder, so a budget maps back to one nearest effort;
"nearest" is measured on a log scale (budgets are roughly geometric) and a tie rounds up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Final, Literal, cast

from router.errors import InvalidReasoning

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]

EFFORTS: Final[tuple[Effort, ...]] = ("none", "minimal", "low", "medium", "high", "xhigh", "max")

DEFAULT_BUDGETS: Final[Mapping[Effort, int]] = {
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
    "max": 64000,
}

_RANK: Final[Mapping[str, int]] = {effort: rank for rank, effort in enumerate(EFFORTS)}
_ACCEPTED: Final[str] = ", ".join(EFFORTS)


def effort_rank(effort: Effort) -> int:
    """Position on the ladder: ``none`` is 0, ``max`` is 6."""
    return _RANK[effort]


def is_effort(value: object) -> bool:
    return isinstance(value, str) and value in _RANK


def parse_effort(value: object, param: str) -> Effort:
    """``value`` as an effort, or a 400 naming ``param`` and listing the accepted values."""
    if isinstance(value, str) and value in _RANK:
        return cast(Effort, value)
    raise InvalidReasoning(
        f"{param} must be one of {_ACCEPTED}; got {value!r}.",
        param=param,
    )


@dataclass(frozen=True, slots=True)
class EffortChoice:
    """What the client asked for and what goes upstream (plus the token budget, if any)."""

    requested: Effort
    sent: Effort
    budget: int | None = None

    @property
    def adjusted(self) -> bool:
        return self.requested != self.sent

    def with_budget(self, budget: int | None) -> EffortChoice:
        return replace(self, budget=budget)

    def header_value(self) -> str:
        """The ``x-tokenwise-effort`` value, e.g. ``requested=minimal; sent=low; budget=1024``."""
        value = f"requested={self.requested}; sent={self.sent}"
        if self.budget is not None:
            value += f"; budget={self.budget}"
        return value


def round_effort(requested: Effort, supported: Iterable[Effort], can_disable: bool) -> EffortChoice:
    """Round ``requested`` onto the levels a model supports.

    ``supported`` lists the levels the model entry declares; a model can switch reasoning off
    when ``can_disable`` is true or ``none`` is among them. Raises ``ValueError`` when the model
    has nothing to send at all (no level and cannot disable): a configuration error.
    """
    levels = set(supported)
    if can_disable:
        levels.add("none")
    if not levels:
        raise ValueError("a reasoning model must support at least one effort level")
    ordered = sorted(levels, key=effort_rank)
    at_or_above = [level for level in ordered if effort_rank(level) >= effort_rank(requested)]
    sent = at_or_above[0] if at_or_above else ordered[-1]
    return EffortChoice(requested=requested, sent=sent)


def validate_budgets(budgets: Mapping[Effort, int]) -> None:
    """Raise ``ValueError`` unless every level above ``none`` has a budget, growing strictly."""
    missing = [effort for effort in EFFORTS[1:] if effort not in budgets]
    if missing or "none" in budgets:
        raise ValueError(f"a budget table maps exactly {', '.join(EFFORTS[1:])} to token counts")
    values = [budgets[effort] for effort in EFFORTS[1:]]
    if any(value < 1 for value in values):
        raise ValueError("thinking budgets must be positive")
    if any(low >= high for low, high in pairwise(values)):
        raise ValueError("thinking budgets must grow strictly along the effort ladder")


def effort_to_budget(effort: Effort, budgets: Mapping[Effort, int] = DEFAULT_BUDGETS) -> int:
    """Thinking-token budget for ``effort``; ``none`` is 0 (reasoning off)."""
    if effort == "none":
        return 0
    return budgets[effort]


def budget_to_effort(budget: int, budgets: Mapping[Effort, int] = DEFAULT_BUDGETS) -> Effort:
    """The effort whose budget is nearest to ``budget`` (log scale, ties round up).

    A budget of 0 or less means reasoning off: ``none``.
    """
    if budget <= 0:
        return "none"
    target = math.log(budget)
    best: Effort = "minimal"
    best_distance = math.inf
    for effort in EFFORTS[1:]:
        distance = abs(math.log(budgets[effort]) - target)
        if distance <= best_distance:
            best, best_distance = effort, distance
    return best
