"""What a classification says: categories, tiers, the effort table and the result type.

Tier from difficulty (documented in training/README.md):

    difficulty   [0, 0.25)   [0.25, 0.5)   [0.5, 0.75)   [0.75, 1]
    tier         trivial     simple        moderate      hard

Effort from category x tier (the classifier's suggestion; a policy may override it):

                 trivial  simple   moderate  hard
    knowledge    none     none     low       medium
    chat         none     none     none      low
    writing      none     none     low       medium
    transform    none     none     low       medium
    code         none     minimal  medium    high
    math         none     minimal  medium    high
    logic        none     minimal  medium    high
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

Category = Literal["knowledge", "chat", "writing", "transform", "code", "math", "logic"]
Tier = Literal["trivial", "simple", "moderate", "hard"]
Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]

CATEGORIES: Final[tuple[Category, ...]] = (
    "knowledge",
    "chat",
    "writing",
    "transform",
    "code",
    "math",
    "logic",
)
TIERS: Final[tuple[Tier, ...]] = ("trivial", "simple", "moderate", "hard")
EFFORTS: Final[tuple[Effort, ...]] = ("none", "minimal", "low", "medium", "high", "xhigh", "max")

# Upper bounds (exclusive) of trivial, simple and moderate; hard is everything above.
TIER_BOUNDS: Final[tuple[float, float, float]] = (0.25, 0.5, 0.75)

# The difficulty a hand-labelled example of each tier is trained towards (each band's middle).
TIER_TARGETS: Final[dict[Tier, float]] = {
    "trivial": 0.125,
    "simple": 0.375,
    "moderate": 0.625,
    "hard": 0.875,
}

_EFFORT_TABLE: Final[dict[Category, tuple[Effort, Effort, Effort, Effort]]] = {
    "knowledge": ("none", "none", "low", "medium"),
    "chat": ("none", "none", "none", "low"),
    "writing": ("none", "none", "low", "medium"),
    "transform": ("none", "none", "low", "medium"),
    "code": ("none", "minimal", "medium", "high"),
    "math": ("none", "minimal", "medium", "high"),
    "logic": ("none", "minimal", "medium", "high"),
}


@dataclass(frozen=True)
class Classification:
    """The classifier's verdict on one request."""

    category: Category
    tier: Tier
    difficulty: float
    effort: Effort
    confidence: float
    features: dict[str, float] = field(default_factory=dict)


def tier_of(difficulty: float) -> Tier:
    """The tier whose band holds `difficulty` (see the module docstring)."""
    for tier, bound in zip(TIERS, TIER_BOUNDS, strict=False):
        if difficulty < bound:
            return tier
    return "hard"


def effort_for(category: Category, tier: Tier) -> Effort:
    """The suggested reasoning effort for a category and tier."""
    return _EFFORT_TABLE[category][TIERS.index(tier)]


def tier_margin(difficulty: float) -> float:
    """Distance from `difficulty` to the nearest tier boundary, scaled to [0, 1].

    0 means on a boundary (the tier could go either way); 1 means at least 0.125 away, the
    middle of an inner band.
    """
    distance = min(abs(difficulty - bound) for bound in TIER_BOUNDS)
    return min(1.0, distance / 0.125)
