"""Where token-economy routing takes each model's priors from: two rules.

For every prompt, `route` asks a rule for each model's expected completion tokens and its
record (judged correctness over some group of prompts, `router.policy.evidence.Record`),
given the classifier's category and tier for the prompt.

- `study_categories`: the issue's protocol, as a deployment would set a catalog. Priors are
  the study's own per-category roll-up (`summary_by_model_category.csv`: per model and study
  category, the mean completion tokens and the accuracy over that category's prompts), keyed
  by the classifier's category (`knowledge`, `math`, `logic` -> the study's `knowledge`,
  `math`, `logic_puzzle`; any other category -> the study's `all`). No per-prompt outcome is
  read. The roll-up is an aggregate over the whole study, so each prompt's outcome is inside
  its category's figures (one of 5-8 prompts), as it is inside any published per-category
  figure a catalog would be set from.
- `leave_one_prompt_out`: the strict rule. Priors come from the OTHER prompts' outcomes only,
  grouped by what the classifier said about them (tokens per category, quality per category
  and tier, backing off to wider groups under `evidence.MIN_EVIDENCE` prompts). Nothing about
  the evaluated prompt enters its decision.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from router.evaluate.replay import Replayed
from router.policy import evidence

STUDY_CATEGORY: Final[Mapping[str, str]] = {
    "knowledge": "knowledge",
    "math": "math",
    "logic": "logic_puzzle",
}
ALL: Final = "all"


@dataclass(frozen=True)
class Priors:
    basis: str  # where they came from, for the report
    tokens: dict[str, float]  # model -> expected completion tokens
    records: dict[str, evidence.Record]  # model -> judged correctness behind its quality


@dataclass(frozen=True)
class CategoryFigures:
    prompts: int
    mean_completion_tokens: float
    accuracy: float


Summary = Mapping[str, Mapping[str, CategoryFigures]]  # study category -> model -> figures
PriorRule = Callable[[int, Sequence[Replayed], Sequence[str]], Priors]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def leave_one_prompt_out(index: int, replayed: Sequence[Replayed], models: Sequence[str]) -> Priors:
    """Priors for prompt `index` from the other prompts' outcomes only."""
    current = replayed[index]
    others = [r for j, r in enumerate(replayed) if j != index]
    category, tier = current.classification.category, current.classification.tier
    same_category = [r for r in others if r.classification.category == category]
    same_cell = [r for r in same_category if r.classification.tier == tier]
    _, token_basis = evidence.basis([(category, same_category), (ALL, others)])
    label, basis = evidence.basis(
        [(f"{category}/{tier}", same_cell), (category, same_category), (ALL, others)]
    )
    return Priors(
        basis=f"{label}: {len(basis)} others",
        tokens={
            m: _mean([r.item.outcomes[m].completion_tokens or 0.0 for r in token_basis])
            for m in models
        },
        records={
            m: evidence.record([r.item.outcomes[m].correct or 0.0 for r in basis]) for m in models
        },
    )


def study_categories(summary: Summary) -> PriorRule:
    """A rule that keys priors on the study's per-category roll-up (see the module doc)."""

    def rule(index: int, replayed: Sequence[Replayed], models: Sequence[str]) -> Priors:
        group = STUDY_CATEGORY.get(replayed[index].classification.category, ALL)
        figures = summary.get(group, {})
        missing = [m for m in models if m not in figures]
        if missing:
            raise ValueError(
                f"the token-economy roll-up has no {group!r} figures for {', '.join(missing)}"
            )
        chosen = {m: figures[m] for m in models}
        return Priors(
            basis=f"study {group}: {max(f.prompts for f in chosen.values())} prompts",
            tokens={m: f.mean_completion_tokens for m, f in chosen.items()},
            records={
                m: evidence.Record(min(f.accuracy * f.prompts, float(f.prompts)), f.prompts)
                for m, f in chosen.items()
            },
        )

    return rule


def load_summary(data_dir: Path) -> dict[str, dict[str, CategoryFigures]]:
    """The study's roll-up, `token-economy/summary_by_model_category.csv`."""
    summary: dict[str, dict[str, CategoryFigures]] = {}
    path = data_dir / "token-economy" / "summary_by_model_category.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            summary.setdefault(row["category"], {})[row["model"]] = CategoryFigures(
                prompts=int(row["prompts"]),
                mean_completion_tokens=float(row["mean_completion_tokens"]),
                accuracy=float(row["accuracy"]),
            )
    return summary
