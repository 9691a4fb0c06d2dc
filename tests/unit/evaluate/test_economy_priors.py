"""Token-economy priors: the study's per-category roll-up, and leave one prompt out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from router.classify.labels import Category
from router.classify.public_data import Price
from router.evaluate import economy_priors, study, token_economy
from router.evaluate.economy_priors import CategoryFigures
from router.evaluate.replay import Replayed
from router.policy.evidence import Record
from tests.unit.evaluate.cases import classified, economy_item, replayed

SUMMARY = {
    "math": {"big": CategoryFigures(6, 5000.0, 1.0), "small": CategoryFigures(6, 1200.0, 1.0)},
    "logic_puzzle": {
        "big": CategoryFigures(8, 6000.0, 1.0),
        "small": CategoryFigures(8, 3000.0, 0.675),
    },
    "all": {"big": CategoryFigures(19, 4000.0, 1.0), "small": CategoryFigures(19, 1500.0, 0.9)},
}
PRICES = {"big": Price(Decimal("2"), Decimal("10")), "small": Price(Decimal("0.1"), Decimal("0.4"))}


def rows(*categories: Category) -> list[Replayed]:
    # Every prompt's own outcome says small is right: the roll-up alone must decide.
    return [
        replayed(
            economy_item(f"p{i}", {"big": (1.0, 1000.0), "small": (1.0, 800.0)}),
            classified(category, "moderate"),
        )
        for i, category in enumerate(categories)
    ]


def test_the_classifiers_category_picks_the_studys_figures() -> None:
    rule = economy_priors.study_categories(SUMMARY)
    given = rows("math", "logic", "code")
    math, logic, code = (rule(i, given, ["big", "small"]) for i in range(3))
    assert math.basis == "study math: 6 prompts"
    assert math.tokens == {"big": 5000.0, "small": 1200.0}
    assert logic.basis == "study logic_puzzle: 8 prompts"
    assert logic.records["small"] == Record(5.4, 8)
    assert code.basis == "study all: 19 prompts"  # no study category for code


def test_routing_on_the_roll_up_follows_the_category_not_the_prompt() -> None:
    rule = economy_priors.study_categories(SUMMARY)
    floors = study.floors_of("no-loss")
    choices = token_economy.route(
        rows("math", "logic"), ["big", "small"], PRICES, floors, "big", rule
    )
    # small is as accurate as big on the study's math, not on its logic puzzles
    assert [c.model for c in choices] == ["small", "big"]


def test_a_model_missing_from_the_roll_up_is_named() -> None:
    rule = economy_priors.study_categories({"math": {"big": CategoryFigures(6, 5000.0, 1.0)}})
    with pytest.raises(ValueError, match="no 'math' figures for small"):
        rule(0, rows("math"), ["big", "small"])


def test_leave_one_prompt_out_never_reads_the_prompt_itself() -> None:
    given = rows("math", "math", "math", "math")
    before = economy_priors.leave_one_prompt_out(0, given, ["big", "small"])
    changed = [
        replayed(
            economy_item("p0", {"big": (0.0, 9.0), "small": (0.0, 9.0)}),
            classified("math", "moderate"),
        ),
        *given[1:],
    ]
    assert economy_priors.leave_one_prompt_out(0, changed, ["big", "small"]) == before
    assert before.records["small"] == Record(3.0, 3)


def test_the_roll_up_is_read_from_the_studys_csv(tmp_path: Path) -> None:
    folder = tmp_path / "token-economy"
    folder.mkdir()
    (folder / "summary_by_model_category.csv").write_text(
        "model,open_weights,category,prompts,mean_completion_tokens,"
        "mean_relative_to_reference,accuracy,completion_price_avg_usd_per_mtok,"
        "mean_completion_cost_usd\n"
        "gpt-oss-20b,True,math,6,1285.3,0.343,1.0,0.40,0.000514\n"
        "glm-4.5,True,logic_puzzle,8,5000.0,1.5,0.875,1.70,0.0085\n"
    )
    summary = economy_priors.load_summary(tmp_path)
    assert summary == {
        "math": {"gpt-oss-20b": CategoryFigures(6, 1285.3, 1.0)},
        "logic_puzzle": {"glm-4.5": CategoryFigures(8, 5000.0, 0.875)},
    }
