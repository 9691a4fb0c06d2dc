import pytest

from router.classify.labels import (
    CATEGORIES,
    EFFORTS,
    TIER_BOUNDS,
    TIER_TARGETS,
    TIERS,
    effort_for,
    tier_margin,
    tier_of,
)


@pytest.mark.parametrize(
    ("difficulty", "tier"),
    [
        (0.0, "trivial"),
        (0.2499, "trivial"),
        (0.25, "simple"),
        (0.4999, "simple"),
        (0.5, "moderate"),
        (0.7499, "moderate"),
        (0.75, "hard"),
        (1.0, "hard"),
    ],
)
def test_tier_bands(difficulty: float, tier: str) -> None:
    assert tier_of(difficulty) == tier


def test_tier_targets_sit_inside_their_bands() -> None:
    for tier, target in TIER_TARGETS.items():
        assert tier_of(target) == tier


def test_effort_table_covers_every_pair_and_rises_with_tier() -> None:
    for category in CATEGORIES:
        levels = [EFFORTS.index(effort_for(category, tier)) for tier in TIERS]
        assert levels == sorted(levels)
        assert effort_for(category, "trivial") == "none"


@pytest.mark.parametrize("category", ["code", "math", "logic"])
def test_hard_reasoning_categories_get_high_effort(category: str) -> None:
    assert effort_for(category, "hard") == "high"  # type: ignore[arg-type]


def test_tier_margin_is_zero_on_a_boundary_and_one_mid_band() -> None:
    for bound in TIER_BOUNDS:
        assert tier_margin(bound) == 0.0
    assert tier_margin(0.375) == 1.0
    assert 0.0 < tier_margin(0.3) < 1.0
