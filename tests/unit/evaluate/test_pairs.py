"""Strong/weak evaluation: the router's curve, its operating point and the baselines."""

from __future__ import annotations

import pytest

from router.classify.labels import Classification, Tier
from router.classify.public_data import STRONG, WEAK, Item, Outcome
from router.evaluate import pairs
from router.evaluate.replay import Replayed
from router.evaluate.report import pairs_section


def question(n: int, strong: float, weak: float, difficulty: float) -> Replayed:
    item = Item(
        "routellm-gsm8k",
        f"q{n}",
        "gsm8k",
        ("?",),
        "?",
        "",
        {STRONG: Outcome(correct=strong), WEAK: Outcome(correct=weak)},
    )
    tier: Tier = "hard" if difficulty >= 0.5 else "simple"
    c = Classification("math", tier, difficulty, "high", 0.9, {})
    return Replayed(item, c, difficulty * 10 - 5)


def test_a_router_that_sends_the_weak_models_failures_up_first() -> None:
    # 10 questions: the weak model fails the 3 the classifier finds hardest.
    rows = [question(n, 1.0, 0.0 if n >= 7 else 1.0, n / 10) for n in range(10)]
    report = pairs.evaluate_pairs("routellm-gsm8k", "test", rows)
    assert (report.strong_quality, report.weak_quality) == (1.0, 0.7)
    assert report.router.apgr > 0.8
    assert report.router.cpt50 < 0.3
    assert report.random.apgr == pytest.approx(0.5)
    # tier >= moderate: q5..q9 go to GPT-4 (half the calls), recovering the whole gap
    op = report.operating
    assert op.share == 0.5 and op.quality == 1.0 and op.pgr == pytest.approx(1.0)
    assert op.random_quality == pytest.approx(0.85)
    names = [row[0] for row in pairs.table_rows(report)]
    assert names[:3] == ["always strong (GPT-4)", "always weak (Mixtral)", "random (expected)"]


def test_explicit_scores_replace_the_difficulty() -> None:
    rows = [question(n, 1.0, 0.0 if n >= 7 else 1.0, n / 10) for n in range(10)]
    backwards = [-r.difficulty_logit for r in rows]
    report = pairs.evaluate_pairs("routellm-gsm8k", "test", rows, backwards)
    assert report.router.apgr < 0.5


def test_categories_are_counted_against_the_benchmarks_labels() -> None:
    rows = [question(n, 1.0, 0.0 if n >= 2 else 1.0, n / 10) for n in range(4)]
    knowledge = Classification("knowledge", "simple", 0.3, "none", 0.9, {})
    rows[3] = Replayed(rows[3].item, knowledge, rows[3].difficulty_logit)
    report = pairs.evaluate_pairs("routellm-gsm8k", "test", rows)
    # every GSM8K question is labelled math; one of the four was classified knowledge
    assert (report.categories.labelled, report.categories.right) == (4, 3)
    assert report.categories.share == 0.75
    assert report.categories.classified == (("math", 3), ("knowledge", 1))
    assert pairs.as_dict(report)["categories"]["classified"] == {"math": 3, "knowledge": 1}
    assert "Categories: 75.0% of the 4 labelled questions" in pairs_section(report)
