"""RouterBench subset: route each test question to one of 11 models, paying RouterBench's USD.

Priors come from RouterDC's train split only; every figure is measured on the test split. The
classifier puts each train question in a cell (its category and tier); a model's prior accuracy
and expected cost in a cell are its mean correctness and mean USD per call over the train
questions in that cell, backing off to the category, then to all train questions, when a cell
has fewer than MIN_CELL. A test question gets the cell the classifier gives it, and
`study.pick` chooses, among models whose prior quality reaches the tier's floor, the lowest
expected cost. Quality is keyed as the product keys it from outcomes (`router.policy.evidence`):
the lower bound of the accuracy (Wilson, one-sided 90%), relative to the best model's bound.
Questions where any model's outcome is missing are left out.

Baselines (chosen on the train split, measured on test): the most accurate model, the
cheapest model. The hindsight oracle (cheapest model that was right) is an upper bound only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from router.evaluate import study
from router.evaluate.replay import Replayed
from router.policy import evidence
from router.policy.schema import Tier

MIN_CELL: Final = 30
SWEEP: Final = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99, 1.0)


@dataclass(frozen=True)
class Totals:
    cost: Decimal  # USD over the test questions
    accuracy: float
    questions: int


@dataclass(frozen=True)
class BenchReport:
    classifier: str
    floors: str
    left_out: int
    routed: Totals
    routed_models: dict[str, int]
    best_model: str
    always_best: Totals
    cheapest_model: str
    always_cheapest: Totals
    oracle: Totals
    by_task: dict[str, tuple[Totals, Totals]]  # task -> (routed, always best)
    sweep: list[tuple[float, Totals]]
    singles: dict[str, Totals]  # each model used for every test question


@dataclass(frozen=True)
class _Prior:
    accuracy: dict[str, float]
    quality: dict[str, float]  # relative lower bounds (router.policy.evidence)
    cost: dict[str, Decimal]


def complete(replayed: Sequence[Replayed]) -> tuple[list[Replayed], list[str], int]:
    """Questions with an outcome (correctness and cost) for every model; the model list."""
    models = sorted({m for r in replayed for m in r.item.outcomes})
    kept = [
        r
        for r in replayed
        if all(
            m in r.item.outcomes
            and r.item.outcomes[m].correct is not None
            and r.item.outcomes[m].cost_usd is not None
            for m in models
        )
    ]
    return kept, models, len(replayed) - len(kept)


def _correct(r: Replayed, model: str) -> float:
    return r.item.outcomes[model].correct or 0.0


def _cost(r: Replayed, model: str) -> Decimal:
    return r.item.outcomes[model].cost_usd or Decimal(0)


def _prior(rows: Sequence[Replayed], models: Sequence[str]) -> _Prior:
    n = len(rows)
    records = {m: evidence.record([_correct(r, m) for r in rows]) for m in models}
    return _Prior(
        accuracy={m: records[m].correct / n for m in models},
        quality=evidence.relative_quality(records),
        cost={m: sum((_cost(r, m) for r in rows), Decimal(0)) / n for m in models},
    )


def priors(train: Sequence[Replayed], models: Sequence[str]) -> dict[tuple[str, str], _Prior]:
    """Priors per (category, tier), per (category, "*") and for ("*", "*")."""
    cells: dict[tuple[str, str], list[Replayed]] = defaultdict(list)
    for r in train:
        c = r.classification
        cells[(c.category, c.tier)].append(r)
        cells[(c.category, "*")].append(r)
        cells[("*", "*")].append(r)
    return {key: _prior(rows, models) for key, rows in cells.items() if len(rows) >= MIN_CELL}


def _lookup(table: Mapping[tuple[str, str], _Prior], r: Replayed) -> _Prior:
    c = r.classification
    for key in ((c.category, c.tier), (c.category, "*"), ("*", "*")):
        if key in table:
            return table[key]
    raise ValueError("no train questions to take priors from")


def _totals(rows: Sequence[Replayed], picks: Sequence[str]) -> Totals:
    cost = sum((_cost(r, m) for r, m in zip(rows, picks, strict=True)), Decimal(0))
    accuracy = sum(_correct(r, m) for r, m in zip(rows, picks, strict=True)) / max(1, len(rows))
    return Totals(cost, accuracy, len(rows))


def _cheapest_right(r: Replayed, models: Sequence[str]) -> str:
    """Hindsight: the cheapest model that answered correctly (else the cheapest)."""
    return min(models, key=lambda m: (-_correct(r, m), _cost(r, m), m))


def route(
    test: Sequence[Replayed],
    table: Mapping[tuple[str, str], _Prior],
    floors: Mapping[Tier, float],
) -> list[str]:
    picks = []
    for r in test:
        prior = _lookup(table, r)
        picks.append(study.pick(prior.quality, prior.cost, floors[r.classification.tier]))
    return picks


def evaluate_routerbench(
    replayed: Sequence[Replayed], floors: Mapping[Tier, float], floors_name: str, classifier: str
) -> BenchReport:
    kept, models, left_out = complete(replayed)
    train = [r for r in kept if r.item.split == "train"]
    test = [r for r in kept if r.item.split == "test"]
    if not train or not test:
        raise ValueError("RouterBench needs questions from both the train and the test split")
    table = priors(train, models)
    overall = table[("*", "*")]
    best = max(models, key=lambda m: (overall.accuracy[m], -overall.cost[m]))
    cheapest = min(models, key=lambda m: (overall.cost[m], -overall.accuracy[m]))
    picks = route(test, table, floors)
    counts: dict[str, int] = defaultdict(int)
    for m in picks:
        counts[m] += 1
    oracle = [_cheapest_right(r, models) for r in test]
    by_task: dict[str, tuple[Totals, Totals]] = {}
    for task in sorted({r.item.group for r in test}):
        idx = [i for i, r in enumerate(test) if r.item.group == task]
        rows = [test[i] for i in idx]
        by_task[task] = (_totals(rows, [picks[i] for i in idx]), _totals(rows, [best] * len(rows)))
    sweep = [
        (floor, _totals(test, route(test, table, dict.fromkeys(floors, floor)))) for floor in SWEEP
    ]
    return BenchReport(
        classifier=classifier,
        floors=floors_name,
        left_out=left_out,
        routed=_totals(test, picks),
        routed_models=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        best_model=best,
        always_best=_totals(test, [best] * len(test)),
        cheapest_model=cheapest,
        always_cheapest=_totals(test, [cheapest] * len(test)),
        oracle=_totals(test, oracle),
        by_task=by_task,
        sweep=sweep,
        singles={m: _totals(test, [m] * len(test)) for m in models},
    )


def as_dict(report: BenchReport) -> dict[str, Any]:
    def totals(t: Totals) -> dict[str, Any]:
        return {
            "cost_usd": str(t.cost.quantize(Decimal("0.000001"))),
            "accuracy": round(t.accuracy, 4),
            "questions": t.questions,
        }

    return {
        "benchmark": "routerbench",
        "classifier": report.classifier,
        "floors": report.floors,
        "left_out_incomplete": report.left_out,
        "routed": totals(report.routed),
        "routed_models": report.routed_models,
        "always_best": {"model": report.best_model, **totals(report.always_best)},
        "always_cheapest": {"model": report.cheapest_model, **totals(report.always_cheapest)},
        "hindsight_oracle": totals(report.oracle),
        "by_task": {
            task: {"routed": totals(a), "always_best": totals(b)}
            for task, (a, b) in report.by_task.items()
        },
        "sweep": [{"floor": f, **totals(t)} for f, t in report.sweep],
    }
