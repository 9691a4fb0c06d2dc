"""Which upstreams a request may try, in order (pure).

The first is the routed model. Then the fallbacks the policy candidate named (in the policy
file), then the ones the config names for that model (`reliability.fallbacks`), each once.
A prompt too long for a model (`context_length_exceeded`) moves to the next candidate with a
larger context window, or, when none is listed and `context_fallback` is on, to the catalog
model with the smallest window larger than the one that refused it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from router.config.schema import Reliability

if TYPE_CHECKING:
    from router.config.load import ModelSpec


def candidates(
    primary: str, policy_fallbacks: Iterable[str], config: Reliability
) -> tuple[str, ...]:
    """The routed model and its fallbacks, in order, each once."""
    order = [primary, *policy_fallbacks, *config.fallbacks.get(primary, ())]
    return tuple(dict.fromkeys(order))


def larger_window(
    refused: str,
    remaining: Sequence[str],
    models: Mapping[str, ModelSpec],
    tried: Iterable[str],
    *,
    whole_catalog: bool,
) -> str | None:
    """Where a prompt too long for `refused` goes next: the first remaining candidate with a
    larger window, else (`whole_catalog`) the catalog model with the next larger window."""
    window = models[refused].context_window
    for name in remaining:
        if models[name].context_window > window:
            return name
    if not whole_catalog:
        return None
    seen = set(tried)
    larger = [m for m in models.values() if m.context_window > window and m.name not in seen]
    if not larger:
        return None
    best = min(larger, key=lambda m: (m.context_window, m.price.rates.output, m.name))
    return best.name


def problems(config: Reliability, models: Mapping[str, ModelSpec]) -> list[tuple[str, str]]:
    """(key path, problem) for every fallback that names no catalog model."""
    found = []
    for model, fallbacks in config.fallbacks.items():
        where = f"reliability.fallbacks.{model}"
        if model not in models:
            found.append((where, "not a catalog model"))
        for i, name in enumerate(fallbacks):
            if name not in models:
                found.append((f"{where}.{i}", f"{name!r} is not a catalog model"))
            elif name == model:
                found.append((f"{where}.{i}", "a model cannot be its own fallback"))
    return found
