"""Token-economy: route each of the 19 prompts to one of the study's priced models.

For prompt p, the classifier gives a category and a tier; every model's priors (expected
completion tokens, and a record of judged correctness behind its quality) come from one of
two rules in `router.evaluate.economy_priors`, and are judged with `router.policy.evidence`:

- the headline, as the issue sets it (priors without per-prompt outcomes): the study's own
  per-category roll-up, keyed by the classifier's category;
- the strict one: the OTHER prompts' outcomes only, grouped by what the classifier said about
  them (nothing about p enters p's decision).

quality(model) = the lower bound (Wilson, one-sided 90%) of its accuracy relative to the best
lower bound among the models. `router.policy.decide` then picks, among models whose quality
reaches the floor, the lowest expected cost = prompt price x prompt tokens (chars / 4, the
router's estimate) + completion price x expected completion tokens. The routed choice is
charged what that model really spent on p (its mean completion tokens over the study's runs)
and scored with its mean correctness on p. The baseline is the study's most accurate model
over all 19 prompts (ties: the cheaper), used for every prompt.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from router.classify.public_data import Item, Price
from router.evaluate import study
from router.evaluate.economy_priors import (
    PriorRule,
    Summary,
    leave_one_prompt_out,
    study_categories,
)
from router.evaluate.replay import Replayed
from router.policy import evidence
from router.policy.decide import decide
from router.policy.router import prompt_estimate
from router.policy.schema import Tier

MILLION: Final = Decimal(1_000_000)
PRICE_DATE: Final = datetime.date(2025, 7, 31)
SWEEP: Final = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


@dataclass(frozen=True)
class Choice:
    prompt: str
    group: str  # the study's category
    category: str  # the classifier's
    tier: str
    difficulty: float
    basis: str  # which prompts the priors came from
    model: str
    expected_cost: Decimal
    cost: Decimal
    correct: float
    reference_cost: Decimal
    reference_correct: float


@dataclass(frozen=True)
class Totals:
    cost: Decimal
    accuracy: float


@dataclass(frozen=True)
class EconomyReport:
    classifier: str
    floors: str
    reference: str
    choices: list[Choice]  # with the study's per-category priors (the headline)
    routed: Totals
    strict: list[Choice]  # with leave-one-prompt-out priors
    strict_routed: Totals
    always_reference: Totals
    always_cheapest: Totals
    cheapest_model: str
    best_per_category: Totals  # hindsight: the cheapest model as accurate as the reference
    best_per_prompt: Totals  # hindsight: the cheapest correct model on each prompt
    sweep: list[tuple[float, Totals]]  # the same routing at other floors (every tier)
    singles: dict[str, Totals]  # each model used for every prompt
    blind_spots: dict[str, list[str]]  # prompt -> models no leave-one-out rule can tell apart

    @property
    def saving(self) -> float:
        return 1.0 - float(self.routed.cost / self.always_reference.cost)


def actual_cost(item: Item, model: str, price: Price) -> Decimal:
    tokens = item.outcomes[model].completion_tokens or 0.0
    prompt = prompt_estimate([{"role": "user", "content": item.question}])
    return (price.prompt * prompt + price.completion * Decimal(str(tokens))) / MILLION


def _usable(items: Sequence[Item], prices: Mapping[str, Price]) -> list[str]:
    """Priced models with an outcome on every prompt."""
    return sorted(
        m
        for m in prices
        if all(
            m in i.outcomes
            and i.outcomes[m].correct is not None
            and i.outcomes[m].completion_tokens
            for i in items
        )
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _totals(items: Sequence[Item], picks: Sequence[str], prices: Mapping[str, Price]) -> Totals:
    cost = sum(
        (actual_cost(i, m, prices[m]) for i, m in zip(items, picks, strict=True)), Decimal(0)
    )
    accuracy = _mean([i.outcomes[m].correct or 0.0 for i, m in zip(items, picks, strict=True)])
    return Totals(cost, accuracy)


def reference_model(
    items: Sequence[Item], models: Sequence[str], prices: Mapping[str, Price]
) -> str:
    """The most accurate model over all prompts (ties: the cheaper): the baseline."""

    def key(m: str) -> tuple[float, Decimal]:
        always = _totals(items, [m] * len(items), prices)
        return (-always.accuracy, always.cost)

    return min(models, key=key)


def route(
    replayed: Sequence[Replayed],
    models: Sequence[str],
    prices: Mapping[str, Price],
    floors: Mapping[Tier, float],
    reference: str,
    priors: PriorRule = leave_one_prompt_out,
) -> list[Choice]:
    """The routed choice for every prompt, each from the priors `priors` gives it."""
    catalog = study.catalog(
        {m: (prices[m].prompt, prices[m].completion) for m in models},
        "token-economy (OpenRouter average, July 2025)",
        PRICE_DATE,
    )
    choices = []
    for index, current in enumerate(replayed):
        given = priors(index, replayed, models)
        quality = evidence.relative_quality(given.records)
        item = current.item
        decision = decide(
            study.policy(quality, floors, reference, f"token-economy priors: {given.basis}"),
            current.classification,
            prompt_estimate([{"role": "user", "content": item.question}]),
            catalog,
            study.token_priors(given.tokens),
        )
        choices.append(
            Choice(
                prompt=item.id,
                group=item.group,
                category=current.classification.category,
                tier=current.classification.tier,
                difficulty=current.classification.difficulty,
                basis=given.basis,
                model=decision.model,
                expected_cost=decision.expected_cost,
                cost=actual_cost(item, decision.model, prices[decision.model]),
                correct=item.outcomes[decision.model].correct or 0.0,
                reference_cost=actual_cost(item, reference, prices[reference]),
                reference_correct=item.outcomes[reference].correct or 0.0,
            )
        )
    return choices


def blind_spots(
    items: Sequence[Item], models: Sequence[str], reference: str
) -> dict[str, list[str]]:
    """Per prompt, the models that did at least as well as the reference on EVERY other prompt
    but worse on this one. A rule that learns only from the other prompts' outcomes sees them
    as good as the reference there; when one is also cheaper, the loss cannot be avoided."""

    def correct(item: Item, model: str) -> float:
        return item.outcomes[model].correct or 0.0

    spots = {}
    for item in items:
        twins = [
            m
            for m in models
            if m != reference
            and correct(item, m) < correct(item, reference)
            and all(correct(o, m) >= correct(o, reference) for o in items if o is not item)
        ]
        if twins:
            spots[item.id] = twins
    return spots


def _hindsight(
    items: Sequence[Item], models: Sequence[str], prices: Mapping[str, Price], reference: str
) -> tuple[Totals, Totals]:
    """Best per category and best per prompt, chosen WITH the outcomes (upper bounds only)."""
    per_category: list[str] = []
    for item in items:
        group = [i for i in items if i.group == item.group]
        need = sum(i.outcomes[reference].correct or 0.0 for i in group)
        fits = [m for m in models if sum(i.outcomes[m].correct or 0.0 for i in group) >= need]
        per_category.append(min(fits, key=lambda m: _totals(group, [m] * len(group), prices).cost))
    per_prompt = []
    for item in items:
        best = max(item.outcomes[m].correct or 0.0 for m in models)
        fits = [m for m in models if (item.outcomes[m].correct or 0.0) >= best]
        per_prompt.append(min(fits, key=lambda m: actual_cost(item, m, prices[m])))
    return _totals(items, per_category, prices), _totals(items, per_prompt, prices)


def evaluate_economy(
    replayed: Sequence[Replayed],
    prices: Mapping[str, Price],
    floors: Mapping[Tier, float],
    floors_name: str,
    classifier: str,
    summary: Summary,
) -> EconomyReport:
    items = [r.item for r in replayed]
    models = _usable(items, prices)
    reference = reference_model(items, models, prices)
    headline = study_categories(summary)
    choices = route(replayed, models, prices, floors, reference, headline)
    strict = route(replayed, models, prices, floors, reference, leave_one_prompt_out)
    cheapest = min(models, key=lambda m: _totals(items, [m] * len(items), prices).cost)
    per_category, per_prompt = _hindsight(items, models, prices, reference)
    sweep = []
    for floor in SWEEP:
        picked = route(replayed, models, prices, dict.fromkeys(floors, floor), reference, headline)
        sweep.append((floor, _totals(items, [c.model for c in picked], prices)))
    return EconomyReport(
        classifier=classifier,
        floors=floors_name,
        reference=reference,
        choices=choices,
        routed=_totals(items, [c.model for c in choices], prices),
        strict=strict,
        strict_routed=_totals(items, [c.model for c in strict], prices),
        always_reference=_totals(items, [reference] * len(items), prices),
        always_cheapest=_totals(items, [cheapest] * len(items), prices),
        cheapest_model=cheapest,
        best_per_category=per_category,
        best_per_prompt=per_prompt,
        sweep=sweep,
        singles={m: _totals(items, [m] * len(items), prices) for m in models},
        blind_spots=blind_spots(items, models, reference),
    )


def as_dict(report: EconomyReport) -> dict[str, Any]:
    def totals(t: Totals) -> dict[str, Any]:
        return {
            "cost_usd": str(t.cost.quantize(Decimal("0.000001"))),
            "accuracy": round(t.accuracy, 4),
        }

    def decisions(choices: Sequence[Choice]) -> list[dict[str, Any]]:
        return [
            {
                "prompt": c.prompt,
                "study_category": c.group,
                "category": c.category,
                "tier": c.tier,
                "difficulty": c.difficulty,
                "priors_from": c.basis,
                "model": c.model,
                "expected_cost_usd": str(c.expected_cost.quantize(Decimal("0.000001"))),
                "cost_usd": str(c.cost.quantize(Decimal("0.000001"))),
                "correct": c.correct,
                "reference_cost_usd": str(c.reference_cost.quantize(Decimal("0.000001"))),
                "reference_correct": c.reference_correct,
            }
            for c in choices
        ]

    strict_saving = 1.0 - float(report.strict_routed.cost / report.always_reference.cost)
    return {
        "benchmark": "token-economy",
        "classifier": report.classifier,
        "floors": report.floors,
        "reference": report.reference,
        "priors": "study per-category roll-up, keyed by the classifier's category",
        "routed": totals(report.routed),
        "always_reference": totals(report.always_reference),
        "saving_vs_reference": round(report.saving, 4),
        "strict_leave_one_prompt_out": {
            "routed": totals(report.strict_routed),
            "saving_vs_reference": round(strict_saving, 4),
            "decisions": decisions(report.strict),
        },
        "always_cheapest": {"model": report.cheapest_model, **totals(report.always_cheapest)},
        "hindsight_best_per_category": totals(report.best_per_category),
        "hindsight_best_per_prompt": totals(report.best_per_prompt),
        "sweep": [{"floor": f, **totals(t)} for f, t in report.sweep],
        "blind_spots": report.blind_spots,
        "decisions": decisions(report.choices),
    }
