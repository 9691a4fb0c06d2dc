"""Study catalogs and policies: floors, relative quality, the per-call-dollar pick."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from router.evaluate import study
from router.policy.schema import TIERS

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def test_no_loss_floors_are_one_at_every_tier() -> None:
    assert study.floors_of("no-loss") == dict.fromkeys(TIERS, 1.0)


@pytest.mark.parametrize("name", ["default", "economy", "quality"])
def test_a_policy_files_floors_are_reused(name: str) -> None:
    raw = yaml.safe_load((POLICIES / f"{name}.yaml").read_text())
    expected = {tier: raw.get("floors", {}).get(tier, raw["floor"]) for tier in TIERS}
    assert study.floors_of(name) == expected


def test_an_unknown_policy_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="no-loss, default"):
        study.floors_of("nonesuch")


def test_pick_is_the_cheapest_model_at_the_floor() -> None:
    quality = {"big": 1.0, "mid": 1.0, "small": 0.67}
    cost = {"big": Decimal("0.010"), "mid": Decimal("0.002"), "small": Decimal("0.0001")}
    assert study.pick(quality, cost, 1.0) == "mid"  # as good as big, cheaper
    assert study.pick(quality, cost, 0.6) == "small"
    assert study.pick(quality, cost, 0.7) == "mid"


def test_pick_breaks_cost_ties_by_quality_then_name() -> None:
    quality = {"b": 0.7, "a": 0.7, "c": 0.9}
    cost = dict.fromkeys(quality, Decimal("0.001"))
    assert study.pick(quality, cost, 0.5) == "c"
    assert study.pick({"b": 0.7, "a": 0.7}, cost, 0.5) == "a"


def test_the_study_policy_lists_every_model_at_every_tier() -> None:
    policy = study.policy({"x": 0.5, "y": 1.0}, study.floors_of("no-loss"), "y", "test")
    for tier in TIERS:
        candidates = {c.model: c.quality for c in policy.candidates(tier, "logic")}
        assert candidates == {"x": 0.5, "y": 1.0}
