"""The embedded default: what `tokenwise serve` runs with no config at all.

One provider, the simulator started in-process on a free loopback port, and one catalog entry per
simulated model. Every entry says it is simulated, in `/v1/models` and in its description.
"""

from __future__ import annotations

from router.config.schema import SIMULATOR_URL, Auth, Config, Model, Provider, Reasoning, Routing

SIM_PROVIDER = "simulator"


def embedded_config() -> Config:
    from router.sim.catalog import default_catalog

    models = {}
    for m in default_catalog():
        reasoning = (
            Reasoning.model_validate({"efforts": m.efforts, "can_disable": not m.reasoning})
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
        )
    return Config(
        providers={SIM_PROVIDER: Provider(base_url=SIMULATOR_URL, dialect="openai")},
        models=models,
        auth=Auth(),
        routing=Routing(default_model="sim-small"),
    )
