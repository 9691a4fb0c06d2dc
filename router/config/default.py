"""The embedded default: what `tokenwise serve` runs with no config at all.

One provider, the simulator started in-process on a free loopback port, and one catalog entry per
simulated model. Every entry says it is simulated, in `/v1/models` and in its description.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from router.config.schema import (
    SIMULATOR_URL,
    Auth,
    Config,
    Model,
    Provider,
    Reasoning,
    Responses,
    Routing,
    TokenPriors,
)

if TYPE_CHECKING:
    from router.sim.catalog import SimModel

SIM_PROVIDER = "simulator"
ROLES = {"small": "sim-small", "reasoner": "sim-mini-reasoner", "large": "sim-large-reasoner"}
SIM_CATEGORIES = {"knowledge": "knowledge", "math": "math", "logic": "logic", "default": "other"}
# Where each simulated dialect puts its reasoning (router/sim/generate.py `_layout`).
OUTPUT_FIELDS = {
    "reasoning_field": "reasoning",
    "reasoning_content": "reasoning_content",
    "think_tags": "think_tags",
    "harmony_leak": "harmony",
}


def sim_priors(m: SimModel) -> TokenPriors:
    """The simulated model's own category means (token-economy figures) as routing priors."""
    answer = {}
    reasoning = {}
    for category, profile_name in SIM_CATEGORIES.items():
        profile = m.profiles.for_category(profile_name)
        answer[category] = profile.answer_mean
        if m.reasoning:
            reasoning[category] = profile.reasoning_mean
    return TokenPriors(answer=answer, reasoning=reasoning)


def embedded_config() -> Config:
    from router.sim.catalog import default_catalog

    models = {}
    for m in default_catalog():
        reasoning = (
            Reasoning.model_validate(
                {
                    "efforts": m.efforts,
                    "can_disable": m.can_disable,
                    "output_field": OUTPUT_FIELDS[m.dialect],
                }
            )
            if m.efforts
            else None
        )
        models[m.name] = Model(
            provider=SIM_PROVIDER,
            upstream_id=m.name,
            context_window=m.context_window,
            description=f"SIMULATED (imitates {m.imitates}): {m.description}",
            reasoning=reasoning,
            simulated=True,
            token_priors=sim_priors(m),
            apis=m.apis,
        )
    return Config(
        providers={SIM_PROVIDER: Provider(base_url=SIMULATOR_URL, dialect="openai_compat")},
        models=models,
        auth=Auth(),
        routing=Routing(default_model="sim-small", roles=ROLES),
        responses=Responses(conversations=True),
    )
