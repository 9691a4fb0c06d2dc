"""The shipped classifier on messages in other languages than English.

`tests/fixtures/classify/multilingual.jsonl` holds 96 labelled prompts in Chinese, Japanese,
Korean, Spanish, French, German, Portuguese and Russian, written for evaluation only: none is in
`training/prompts.jsonl` (checked below), and the training script never reads this folder. The
bounds are a floor under what the shipped artifact measures (docs/eval.md, "Other languages"),
so that a change to the features or the training data that loses other languages fails here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from router.classify import TIERS, Classifier, load_classifier

ROOT = Path(__file__).resolve().parents[3]
HELD_OUT = ROOT / "tests" / "fixtures" / "classify" / "multilingual.jsonl"
TRAINING = ROOT / "training" / "prompts.jsonl"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()


@pytest.fixture(scope="module")
def scored(classifier: Classifier) -> list[tuple[dict[str, Any], str, str]]:
    out = []
    for row in _rows(HELD_OUT):
        result = classifier.classify_text(row["prompt"])
        out.append((row, result.category, result.tier))
    return out


def test_the_held_out_prompts_are_not_training_prompts() -> None:
    trained = {row.get("prompt") for row in _rows(TRAINING)}
    held_out = _rows(HELD_OUT)
    assert len(held_out) == 96
    assert not [row["id"] for row in held_out if row["prompt"] in trained]


def test_categories_and_tiers_in_other_languages(
    scored: list[tuple[dict[str, Any], str, str]],
) -> None:
    right: dict[str, list[bool]] = defaultdict(list)
    bands = []
    for row, category, tier in scored:
        right[row["lang"]].append(category == row["category"])
        # the routing question: a small model (trivial, simple) or a reasoner (moderate, hard)
        bands.append((TIERS.index(tier) >= 2) == (TIERS.index(row["tier"]) >= 2))
    everything = [hit for hits in right.values() for hit in hits]
    assert sum(everything) / len(everything) >= 0.65
    assert sum(bands) / len(bands) >= 0.85
    worst = min(sum(hits) / len(hits) for hits in right.values())
    assert worst >= 0.45, {lang: sum(hits) / len(hits) for lang, hits in right.items()}


@pytest.mark.parametrize(
    ("text", "category", "tiers"),
    [
        ("你好", "chat", ("trivial",)),
        ("法国的首都是哪里？", "knowledge", ("trivial",)),
        ("Was ist die Hauptstadt von Frankreich?", "knowledge", ("trivial",)),
        ("Danke, das war hilfreich!", "chat", ("trivial",)),
        ("证明：对于所有正整数n，n^3-n能被6整除。", "math", ("moderate", "hard")),
    ],
)
def test_unseen_messages(
    classifier: Classifier, text: str, category: str, tiers: tuple[str, ...]
) -> None:
    result = classifier.classify_text(text)
    assert result.category == category
    assert result.tier in tiers
