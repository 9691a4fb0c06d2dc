"""Expected completion tokens per model x category x effort: priors, then learned from traffic.

A prior comes from the catalog (`models.*.token_priors`: visible answer and reasoning tokens
per category at medium effort; figures in the embedded default are the LRM Token Economy
study's category means). Effort scales the reasoning part (EFFORT_SCALE). Every metered answer
then moves the estimate for its (model, category, effort): an exponentially weighted mean in
log space whose step is clipped to a factor of e, so one runaway answer moves it by at most
ALPHA (robust to outliers). Estimates are kept in the store (`put_state("token_priors", ...)`),
read back at start-up and synced every `SYNC_SECONDS` and at shutdown (a killed process loses
at most that much learning). Several processes share the store (workers, replicas): a sync
reads what the store holds and adds this process's own movement since its last sync to it
(`merge`), so one process never overwrites what the others learned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

EFFORT_SCALE: Mapping[str, float] = {
    "none": 0.0,
    "minimal": 0.2,
    "low": 0.35,
    "medium": 1.0,
    "high": 2.2,
    "xhigh": 3.0,
    "max": 4.0,
}
ALPHA = 0.1
SYNC_SECONDS = 30.0
DEFAULT = "default"
FALLBACK_ANSWER = 300
FALLBACK_REASONING = 1500
NAMESPACE = "token_priors"


@dataclass(frozen=True)
class ModelPriors:
    """Catalog figures for one model: tokens per category at medium effort."""

    answer: Mapping[str, int]
    reasoning: Mapping[str, int]
    reasons: bool

    def expected(self, category: str, effort: str) -> float:
        answer = self.answer.get(category, self.answer.get(DEFAULT, FALLBACK_ANSWER))
        if not self.reasons:
            return float(answer)
        fallback = self.reasoning.get(DEFAULT, FALLBACK_REASONING)
        reasoning = self.reasoning.get(category, fallback)
        return answer + reasoning * EFFORT_SCALE.get(effort, 1.0)


class TokenPriors:
    def __init__(self, catalog: Mapping[str, ModelPriors]) -> None:
        self.catalog = catalog
        self._learned: dict[tuple[str, str, str], tuple[float, int]] = {}
        self._synced: dict[tuple[str, str, str], tuple[float, int]] = {}  # as of the last sync
        self.dirty = False

    def expected(self, model: str, category: str, effort: str) -> float:
        learned = self._learned.get((model, category, effort))
        if learned is not None:
            return math.exp(learned[0])
        priors = self.catalog.get(model)
        if priors is None:
            return float(FALLBACK_ANSWER)
        return priors.expected(category, effort)

    def observe(self, model: str, category: str, effort: str, completion_tokens: int) -> None:
        """Move the estimate for this key toward one metered answer."""
        x = math.log(max(completion_tokens, 1))
        key = (model, category, effort)
        current = self._learned.get(key)
        if current is None:
            start = math.log(max(self.expected(model, category, effort), 1.0))
            current = self._synced.setdefault(key, (start, 0))
        mean, n = current
        step = max(-1.0, min(1.0, x - mean))
        self._learned[key] = (mean + ALPHA * step, n + 1)
        self.dirty = True

    def observations(self, model: str, category: str, effort: str) -> int:
        learned = self._learned.get((model, category, effort))
        return learned[1] if learned else 0

    def learned(self) -> dict[tuple[str, str, str], float]:
        return {k: math.exp(v[0]) for k, v in self._learned.items()}

    def dump(self) -> dict[str, str]:
        self.dirty = False
        return _dumped(self._learned)

    def load(self, state: Mapping[str, str]) -> int:
        """Read estimates kept by `dump` (unreadable entries are skipped); how many were read."""
        found = _parsed(state)
        self._learned.update(found)
        self._synced.update(found)
        return len(found)

    def merge(self, stored: Mapping[str, str]) -> dict[str, str]:
        """What the store should hold now: what it holds (others' learning included) plus this
        process's movement since its last sync, key by key; this process takes it as its own."""
        merged = _parsed(stored)
        for key, (mean, n) in self._learned.items():
            base_mean, base_n = self._synced.get(key, (mean, n))
            if (mean, n) == (base_mean, base_n) and key in merged:
                continue  # nothing new here: the store's figure stands
            theirs = merged.get(key, (base_mean, base_n))
            merged[key] = (theirs[0] + mean - base_mean, theirs[1] + n - base_n)
        self._learned = dict(merged)
        self._synced = dict(merged)
        self.dirty = False
        return _dumped(merged)


def _dumped(learned: Mapping[tuple[str, str, str], tuple[float, int]]) -> dict[str, str]:
    return {"|".join(k): f"{m:.6f} {n}" for k, (m, n) in sorted(learned.items())}


def _parsed(state: Mapping[str, str]) -> dict[tuple[str, str, str], tuple[float, int]]:
    found = {}
    for key, value in state.items():
        parts = key.split("|")
        fields = value.split()
        if len(parts) != 3 or len(fields) != 2:
            continue
        try:
            mean, n = float(fields[0]), int(fields[1])
        except ValueError:
            continue
        found[(parts[0], parts[1], parts[2])] = (mean, n)
    return found
