"""Run benchmark items through the classifier, once each, with a progress bar.

The classifier sees what a client would send: one user message holding the item's question
(`Item.question`: the prompt as the benchmark sent it; for RouterBench's few-shot prompts, the
last block, which is the real question). Besides the `Classification` we keep the raw
difficulty logit, which ranks items without the rounding of `Classification.difficulty`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from router.classify.labels import CATEGORIES, Classification
from router.classify.model import Classifier
from router.classify.public_data import Item
from router.classify.request import view
from router.evaluate.progress import progress

DIFFICULTY_OUTPUT: Final = len(CATEGORIES)


@dataclass(frozen=True)
class Replayed:
    item: Item
    classification: Classification
    difficulty_logit: float


def request_body(item: Item) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": item.question}]}


def replay(
    classifier: Classifier, items: Sequence[Item], label: str, *, show: bool = True
) -> list[Replayed]:
    """Classify every item (in order)."""
    out = []
    for item in progress(items, len(items), label, enabled=show):
        body = request_body(item)
        logits = classifier.logits(classifier.features(view(body)))
        out.append(Replayed(item, classifier.classify(body), float(logits[DIFFICULTY_OUTPUT])))
    return out
