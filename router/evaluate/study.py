"""A study's models as a catalog and a policy, so `router.policy.decide` can choose among them.

Multi-model benchmarks (token-economy, RouterBench) route over the models the study ran, not
over our configured catalog. Each evaluated item gets its own policy whose candidates are every
study model, with a quality that comes from priors computed WITHOUT the item's own outcomes,
keyed as the product keys quality from outcomes (`router.policy.evidence`):

    quality(model) = lower bound of its prior accuracy / the best lower bound among candidates

and floors per tier from a named floor set: `no-loss` (1.0 at every tier: only models that
were as accurate as the best one on the prior items) or the floors of a shipped policy file
(`default`, `economy`, `quality`). `decide` then keeps the candidates at or above the floor and
picks the lowest expected cost.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from router.config.load import ModelSpec, ProviderSpec
from router.evaluate.args import NO_LOSS
from router.metering.pricing import ModelPrice, Rates
from router.policy.load import Candidate, Policy, policy_files
from router.policy.priors import ModelPriors, TokenPriors
from router.policy.schema import ANY, TIERS, PolicyFile, Tier

EFFORT: Final = "none"  # the study fixed each model's reasoning setting; we only pick models
_PROVIDER: Final = ProviderSpec(
    name="study", base_url="offline://study", api_key=None, dialect="openai_compat"
)


def floors_of(name: str) -> dict[Tier, float]:
    """Floors per tier: `no-loss`, or those of the shipped policy file called `name`."""
    if name == NO_LOSS:
        return dict.fromkeys(TIERS, 1.0)
    files = policy_files(None)
    if name not in files:
        known = ", ".join([NO_LOSS, *sorted(files)])
        raise ValueError(f"unknown policy {name!r} (use one of: {known})")
    import yaml

    parsed = PolicyFile.model_validate(yaml.safe_load(files[name][1]))
    return {tier: parsed.floors.get(tier, parsed.floor) for tier in TIERS}


def catalog(
    prices: Mapping[str, tuple[Decimal, Decimal]], source: str, date: datetime.date
) -> dict[str, ModelSpec]:
    """One catalog entry per priced model: (input, output) USD per million tokens."""
    models = {}
    for name, (price_in, price_out) in sorted(prices.items()):
        price = ModelPrice(
            key=name,
            provider=None,
            rates=Rates(input=price_in, output=price_out),
            source=source,
            date=date,
        )
        models[name] = ModelSpec(
            name=name,
            provider=_PROVIDER,
            upstream_id=name,
            context_window=1_000_000,
            efforts=(),
            can_disable=True,
            simulated=False,
            description=f"{name} as run by {source}",
            price=price,
            priors=ModelPriors(answer={}, reasoning={}, reasons=False),
        )
    return models


def token_priors(expected_tokens: Mapping[str, float]) -> TokenPriors:
    """Expected completion tokens per model, the same for every category and effort."""
    return TokenPriors(
        {
            model: ModelPriors(answer={"default": round(tokens)}, reasoning={}, reasons=False)
            for model, tokens in expected_tokens.items()
        }
    )


def policy(
    quality: Mapping[str, float], floors: Mapping[Tier, float], reference: str, source: str
) -> Policy:
    """Every model a candidate at every tier, trusted with its relative prior quality."""
    candidates = tuple(
        Candidate(model, EFFORT, round(quality[model], 9)) for model in sorted(quality)
    )
    return Policy(
        name="study",
        virtual_model="auto-study",
        reference=reference,
        floors=dict(floors),
        tiers={tier: {ANY: candidates} for tier in TIERS},
        source=source,
    )


def pick(quality: Mapping[str, float], expected_cost: Mapping[str, Decimal], floor: float) -> str:
    """`decide`'s rule when priors are per-call dollars instead of tokens: among models whose
    relative prior quality reaches `floor`, the lowest expected cost (ties: the better, then
    the name)."""
    eligible = [m for m in quality if quality[m] >= floor] or list(quality)
    return min(eligible, key=lambda m: (expected_cost[m], -quality[m], m))
