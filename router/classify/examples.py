"""Labelled training examples: the team's hand-written prompts and labelled public items.

The label rules for public data (documented in training/README.md):

- category: from the benchmark or its subject (`_MMLU_CATEGORY`, `_GROUP_CATEGORY`); None where
  no category fits, and such rows train only the difficulty head.
- difficulty: from how models did. Strong/weak pairs (RouteLLM's MMLU and GSM8K) are labelled
  by what routing can change (`LabelRule`): strong right and weak wrong 1, the reverse 0, both
  the same 0.5 at a quarter of the weight (with `--pair-labels table`, a table over the four
  outcomes instead). RouterBench uses the share of its 11 models that failed, inside a band per
  task (or, with `--routerbench-pairs`, its GPT-4 and Mixtral runs like a pair); MT-Bench uses
  GPT-4's lead over Mixtral in judge score (with `table`, the two models' mean score);
  token-economy the median completion tokens the models spent.
- weight: every hand-written example weighs 1; each public benchmark shares a fixed total
  weight (`SHARES`) spread evenly over its items, so no benchmark drowns the others.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from router.classify.labels import CATEGORIES, TIER_TARGETS, TIERS, Category
from router.classify.public_data import STRONG, WEAK, Item

SHARES: Final[dict[str, float]] = {
    "routellm-mmlu": 250.0,
    "routellm-gsm8k": 120.0,
    "routellm-mtbench": 40.0,
    "routerbench": 200.0,
    "token-economy": 19.0,
}
# (strong correct, weak correct) -> difficulty, per strong/weak benchmark.
_PAIR_DIFFICULTY: Final[dict[str, dict[tuple[bool, bool], float]]] = {
    "routellm-mmlu": {
        (True, True): 0.35,
        (False, True): 0.45,
        (True, False): 0.65,
        (False, False): 0.75,
    },
    "routellm-gsm8k": {
        (True, True): 0.45,
        (False, True): 0.5,
        (True, False): 0.7,
        (False, False): 0.8,
    },
}
# MT-Bench: a judge-score lead of GPT-4 over Mixtral of this many points is difficulty 1 (0.5 + lead
# / span, clipped; a lead of 0 is 0.5, the mean of two turns' 1-10 scores).
MTBENCH_GAIN_SPAN: Final = 6.0
# RouterBench's runs of the same strong/weak pair as RouteLLM's.
ROUTERBENCH_PAIR: Final = ("gpt-4-1106-preview", "mistralai/mixtral-8x7b-chat")
# RouterBench: difficulty = low + span * (share of models that failed).
_ROUTERBENCH_BAND: Final[dict[str, tuple[float, float]]] = {
    "arc-challenge": (0.15, 0.6),
    "winogrande": (0.25, 0.55),
    "mbpp": (0.25, 0.4),
}
_MATH_SUBJECTS: Final = frozenset(
    {
        "abstract_algebra",
        "college_mathematics",
        "elementary_mathematics",
        "high_school_mathematics",
        "high_school_statistics",
    }
)
_NO_CATEGORY_SUBJECTS: Final = frozenset(
    {"college_computer_science", "high_school_computer_science"}
)
_GROUP_CATEGORY: Final[dict[str, Category]] = {
    "gsm8k": "math",
    "arc-challenge": "knowledge",
    "winogrande": "logic",
    "mbpp": "code",
    "writing": "writing",
    "roleplay": "chat",
    "reasoning": "logic",
    "math": "math",
    "coding": "code",
    "extraction": "transform",
    "stem": "knowledge",
    "humanities": "knowledge",
    "knowledge": "knowledge",
    "logic_puzzle": "logic",
}


@dataclass(frozen=True)
class Example:
    id: str
    source: str  # "handwritten" or a benchmark name
    body: dict[str, Any]  # the chat request the classifier sees
    category: Category | None
    difficulty: float
    weight: float
    offset_group: str | None = None  # rows sharing a fitted, discarded difficulty offset
    difficulty_weight: float | None = None  # the difficulty head's weight, when not `weight`


@dataclass(frozen=True)
class LabelRule:
    """How strong/weak outcomes become difficulty labels.

    `table`: the four-outcome table `_PAIR_DIFFICULTY`, and MT-Bench by the two models' mean
    judge score. `discordant`: what routing can change: strong right and weak wrong 1.0, the
    reverse 0.0, both the same 0.5 at `concordant_weight` of a discordant row's difficulty weight
    (the benchmark's share is kept), and MT-Bench by GPT-4's lead over Mixtral in judge score; with
    `routerbench_pairs`, RouterBench is labelled the same way from its GPT-4 and Mixtral runs
    (else, and with `table`, by the share of its models that failed).
    """

    pairs: str = "discordant"
    concordant_weight: float = 0.25
    routerbench_pairs: bool = False


def _body(row: dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(row.get("prompt"), str):
        body: dict[str, Any] = {"messages": [{"role": "user", "content": row["prompt"]}]}
    elif isinstance(row.get("messages"), list) and row["messages"]:
        body = {"messages": row["messages"]}
    else:
        raise ValueError(f"{where}: needs a 'prompt' string or a non-empty 'messages' list")
    for key in ("tools", "response_format"):
        if key in row:
            body[key] = row[key]
    return body


def load_handwritten(path: Path) -> list[Example]:
    """training/prompts.jsonl: one labelled request per line (format in training/README.md)."""
    examples: list[Example] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            row = json.loads(line)
            example_id, category, tier = row.get("id"), row.get("category"), row.get("tier")
            if not isinstance(example_id, str) or example_id in seen:
                raise ValueError(f"{where}: missing or duplicate id {example_id!r}")
            if category not in CATEGORIES or tier not in TIERS:
                raise ValueError(f"{where}: bad category {category!r} or tier {tier!r}")
            seen.add(example_id)
            examples.append(
                Example(
                    example_id, "handwritten", _body(row, where), category, TIER_TARGETS[tier], 1.0
                )
            )
    return sorted(examples, key=lambda example: example.id)


def benchmark_category(item: Item) -> Category | None:
    """The category a public item is labelled with (None where no category fits)."""
    if item.benchmark == "routellm-mmlu":
        if item.group in _MATH_SUBJECTS:
            return "math"
        if item.group == "formal_logic":
            return "logic"
        return None if item.group in _NO_CATEGORY_SUBJECTS else "knowledge"
    return _GROUP_CATEGORY.get(item.group)


def _pair(item: Item, rule: LabelRule) -> tuple[bool, bool] | None:
    """(strong correct, weak correct) where the item is labelled by a strong/weak pair."""
    if item.benchmark in _PAIR_DIFFICULTY:
        return bool(item.outcomes[STRONG].correct), bool(item.outcomes[WEAK].correct)
    if item.benchmark == "routerbench" and rule.routerbench_pairs:
        strong, weak = (item.outcomes.get(m) for m in ROUTERBENCH_PAIR)
        if strong is None or weak is None or strong.correct is None or weak.correct is None:
            return None
        return bool(strong.correct), bool(weak.correct)
    return None


def _difficulty(item: Item, rule: LabelRule) -> tuple[float, float] | None:
    """The difficulty label and its relative weight in the difficulty head."""
    outcomes = item.outcomes
    pair = _pair(item, rule)
    if pair is not None and rule.pairs == "discordant":
        if pair[0] == pair[1]:
            return 0.5, rule.concordant_weight
        return (1.0 if pair[0] else 0.0), 1.0
    if pair is not None and item.benchmark in _PAIR_DIFFICULTY:
        return _PAIR_DIFFICULTY[item.benchmark][pair], 1.0
    if item.benchmark == "routerbench":
        known = [o.correct for o in outcomes.values() if o.correct is not None]
        if not known:
            return None
        low, span = _ROUTERBENCH_BAND[item.group]
        return low + span * (1.0 - sum(known) / len(known)), 1.0
    if item.benchmark == "routellm-mtbench" and rule.pairs == "discordant":
        strong, weak = outcomes.get(STRONG), outcomes.get(WEAK)
        if strong is None or weak is None or strong.score is None or weak.score is None:
            return None
        gain = (strong.score - weak.score) / MTBENCH_GAIN_SPAN
        return min(1.0, max(0.0, 0.5 + gain)), 1.0
    if item.benchmark == "routellm-mtbench":
        scores = [o.score for o in outcomes.values() if o.score is not None]
        if not scores:
            return None
        return min(0.85, max(0.3, 0.4 + 0.08 * (9.5 - sum(scores) / len(scores)))), 1.0
    tokens = [o.completion_tokens for o in outcomes.values() if o.completion_tokens]
    if not tokens:
        return None
    spend = math.log(statistics.median(tokens) / 150.0) / math.log(8000.0 / 150.0)
    return min(0.95, max(0.05, spend)), 1.0


def _offset_group(item: Item) -> str | None:
    if item.benchmark == "token-economy":
        return None
    if item.benchmark == "routerbench":
        return f"routerbench/{item.group}"
    return item.benchmark


def label_public(items: list[Item], rule: LabelRule | None = None) -> list[Example]:
    """Examples from one benchmark's items, sharing that benchmark's total weight in each head
    (in the difficulty head, in proportion to the rule's row weights)."""
    rule = rule or LabelRule()
    labelled = [(item, _difficulty(item, rule)) for item in items]
    kept = [(item, d) for item, d in labelled if d is not None]
    if not kept:
        return []
    share = SHARES[kept[0][0].benchmark]
    rows = math.fsum(d[1] for _, d in kept)
    even = all(d[1] == 1.0 for _, d in kept)
    return [
        Example(
            item.id,
            item.benchmark,
            {"messages": [{"role": "user", "content": item.question}]},
            benchmark_category(item),
            difficulty,
            share / len(kept),
            _offset_group(item),
            None if even else (share * row / rows if rows else 0.0),
        )
        for item, (difficulty, row) in kept
    ]
