"""decide(policy, classification, ...) -> Decision: which model answers and how hard it thinks.

Pure. Among the candidates the policy lists for the request's tier and category, keep those
whose declared quality reaches the tier's floor (and whose effort is within a cap, when a soft
budget set one), then pick the lowest expected cost:

    expected cost = input price x prompt tokens + output price x expected completion tokens

where expected completion tokens (reasoning included) come from `TokenPriors` for that model,
category and effort. Candidates whose upstream's circuit breaker is open (`unavailable`) are
left out while any other remains. A conversation pinned to a model keeps it unless the new turn
is a harder tier (prompt caches survive); a forced tier (`x-tokenwise-route: tier=hard`)
replaces the classifier's. A client that asks for reasoning itself (`reasoning=True`: an
effort above `none`, a thinking budget, thinking switched on) is answered by a model that
reasons: candidates that do not are left out, and the tier is raised to the first that lists
one (a client who asked for thinking never gets none while the policy has a model for it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from router.classify.labels import Classification
from router.config.load import ModelSpec
from router.policy.load import Candidate, Policy
from router.policy.priors import TokenPriors
from router.policy.schema import TIERS, Tier

EFFORT_RANK = {
    e: i for i, e in enumerate(("none", "minimal", "low", "medium", "high", "xhigh", "max"))
}
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Pin:
    """The model a conversation is on, and the tier it was decided at."""

    model: str
    effort: str
    tier: Tier


@dataclass(frozen=True)
class Decision:
    policy: str
    category: str
    tier: Tier
    difficulty: float
    model: str
    effort: str
    expected_tokens: float
    expected_cost: Decimal
    reason: str
    fallbacks: tuple[str, ...] = ()  # the chosen candidate's fallbacks, in order

    def header(self) -> str:
        return (
            f"category={self.category}; tier={self.tier}; difficulty={self.difficulty:.2f}; "
            f"model={self.model}; effort={self.effort}; reason={self.reason}"
        )

    def pin(self) -> Pin:
        return Pin(self.model, self.effort, self.tier)


def _left(pin: Pin, tier: Tier, reasoning: bool, models: Mapping[str, ModelSpec]) -> str:
    """Why a conversation leaves its pinned model: a harder tier, a client asking for
    reasoning the model lacks, or the model out of reach (unknown, not allowed, circuit open)."""
    if TIERS.index(tier) > TIERS.index(pin.tier):
        return f", escalated from {pin.tier}"
    if reasoning and pin.model in models and not models[pin.model].efforts:
        return f", left {pin.model} as reasoning was asked"
    return f", left {pin.model} (not available to this request)"


def expected_cost(model: ModelSpec, prompt_tokens: int, completion_tokens: float) -> Decimal:
    rates = model.price.rates
    completion = Decimal(round(completion_tokens))
    return (rates.input * prompt_tokens + rates.output * completion) / MILLION


def decide(
    policy: Policy,
    c: Classification,
    prompt_tokens: int,
    models: Mapping[str, ModelSpec],
    priors: TokenPriors,
    *,
    forced_tier: Tier | None = None,
    pin: Pin | None = None,
    max_effort: str | None = None,
    allowed: Collection[str] | None = None,
    unavailable: frozenset[str] = frozenset(),
    reasoning: bool = False,
) -> Decision:
    """The cheapest candidate at the tier's quality floor (`allowed`: the only models the
    caller may use, when its key has an allow-list; a policy with none of them decides as if
    unrestricted, and the caller's permission check refuses)."""
    tier: Tier = forced_tier or c.tier
    category = c.category
    if (
        pin is not None
        and forced_tier is None
        and TIERS.index(tier) <= TIERS.index(pin.tier)
        and pin.model in models
        and (not reasoning or models[pin.model].efforts)
        and (allowed is None or pin.model in allowed)
        and pin.model not in unavailable
    ):
        tokens = priors.expected(pin.model, category, pin.effort)
        return Decision(
            policy.name,
            category,
            tier,
            c.difficulty,
            pin.model,
            pin.effort,
            tokens,
            expected_cost(models[pin.model], prompt_tokens, tokens),
            f"session pinned to {pin.model}",
        )
    left = "" if pin is None or forced_tier is not None else _left(pin, tier, reasoning, models)
    asked = ""
    if reasoning:
        raised = _reasoning_tier(policy, tier, category, models, allowed)
        if raised is None:
            asked = ", reasoning asked but no candidate reasons"
        elif raised != tier:
            asked, tier = f", raised from {tier} as reasoning was asked", raised
        else:
            asked = ", reasoning asked"
    floor = policy.floors[tier]
    listed = policy.candidates(tier, category)
    if allowed is not None:
        listed = tuple(x for x in listed if x.model in allowed) or listed
    if reasoning:
        listed = tuple(x for x in listed if models[x.model].efforts) or listed
    eligible = [x for x in listed if x.quality >= floor]
    capped = [
        x
        for x in eligible
        if max_effort is None or EFFORT_RANK[x.effort] <= EFFORT_RANK[max_effort]
    ]
    pool = capped or eligible or list(listed)
    up = [x for x in pool if x.model not in unavailable]
    skipped = len(pool) - len(up) if up else 0
    pool = up or pool
    best, best_cost, best_tokens = _cheapest(pool, category, prompt_tokens, models, priors)
    reason = f"cheapest of {len(pool)} at floor {floor:g}"
    if skipped:
        reason += f", {skipped} skipped (circuit open)"
    if forced_tier is not None:
        reason += f", tier forced to {forced_tier}"
    reason += left + asked
    if max_effort is not None and capped:
        reason += f", effort capped at {max_effort}"
    return Decision(
        policy.name,
        category,
        tier,
        c.difficulty,
        best.model,
        best.effort,
        best_tokens,
        best_cost,
        reason,
        best.fallbacks,
    )


def _reasoning_tier(
    policy: Policy,
    tier: Tier,
    category: str,
    models: Mapping[str, ModelSpec],
    allowed: Collection[str] | None,
) -> Tier | None:
    """The first tier from `tier` up that lists, for this category, a model that reasons (and
    that the caller may use)."""
    for higher in TIERS[TIERS.index(tier) :]:
        for x in policy.candidates(higher, category):
            if models[x.model].efforts and (allowed is None or x.model in allowed):
                return higher
    return None


def _cheapest(
    pool: list[Candidate],
    category: str,
    prompt_tokens: int,
    models: Mapping[str, ModelSpec],
    priors: TokenPriors,
) -> tuple[Candidate, Decimal, float]:
    scored = []
    for order, cand in enumerate(pool):
        tokens = priors.expected(cand.model, category, cand.effort)
        cost = expected_cost(models[cand.model], prompt_tokens, tokens)
        scored.append((cost, -cand.quality, order, cand, tokens))
    cost, _, _, cand, tokens = min(scored, key=lambda s: (s[0], s[1], s[2]))
    return cand, cost, tokens
