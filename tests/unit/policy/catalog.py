"""A small, made-up catalog for policy tests: prices and token figures chosen by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

from router.classify.labels import Classification
from router.config.load import ModelSpec, ProviderSpec
from router.metering.pricing import ModelPrice, Rates
from router.policy.priors import ModelPriors

PROVIDER = ProviderSpec(name="p", base_url="http://127.0.0.1:1/v1", api_key=None, dialect="openai")


def spec(
    name: str,
    price_in: str,
    price_out: str,
    answer: int,
    reasoning: int = 0,
    efforts: tuple[str, ...] = (),
    can_disable: bool = True,
) -> ModelSpec:
    price = ModelPrice(
        key=name,
        provider=None,
        rates=Rates(input=Decimal(price_in), output=Decimal(price_out)),
        source="test",
        date=datetime.date(2026, 11, 23),
    )
    return ModelSpec(
        name=name,
        provider=PROVIDER,
        upstream_id=name,
        context_window=128_000,
        efforts=efforts,
        can_disable=can_disable,
        simulated=False,
        description="",
        price=price,
        priors=ModelPriors(
            answer={"default": answer},
            reasoning={"default": reasoning, "math": reasoning * 2},
            reasons=bool(efforts),
        ),
    )


def reasoner(name: str, price_in: str, price_out: str, answer: int, reasoning: int) -> ModelSpec:
    """A reasoning model: three efforts, and its reasoning cannot be turned off."""
    efforts = ("low", "medium", "high")
    return spec(name, price_in, price_out, answer, reasoning, efforts, can_disable=False)


# small: cheap, no reasoning. mini: mid-priced reasoner. big: pricey per token but terse.
MODELS = {
    "small": spec("small", "0.10", "0.40", answer=200),
    "mini": reasoner("mini", "1.10", "4.40", answer=300, reasoning=1000),
    "big": reasoner("big", "2.00", "8.00", answer=300, reasoning=400),
}
ROLES = {"small": "small", "reasoner": "mini", "large": "big"}


def verdict(category: str, tier: str, difficulty: float = 0.5) -> Classification:
    return Classification(
        category=category,  # type: ignore[arg-type]
        tier=tier,  # type: ignore[arg-type]
        difficulty=difficulty,
        effort="none",
        confidence=0.9,
    )
