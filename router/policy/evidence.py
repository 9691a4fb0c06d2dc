"""Prior quality from measured outcomes, with its uncertainty.

A policy's quality for a model (its accuracy relative to the best candidate) can be keyed from
outcomes: how often the model was right on past questions of the same kind. A small group of
questions is weak evidence. A cheap model that happened to be right on the two other puzzles
it was tried on looks exactly as good as a model right on ninety, and a no-loss floor then
picks the cheap one. Two rules keep quality honest:

- **enough evidence**: a model is judged on the narrowest group of past questions (say the
  request's category and tier, else its category, else everything) that holds at least
  MIN_EVIDENCE questions (`basis`);
- **a lower bound, not a mean**: its accuracy there counts as the Wilson score lower bound at
  one-sided 90% confidence (`lower_bound`), so a record on few questions counts for less than
  the same record on many: 2 of 2 right gives 0.55, 30 of 30 0.95, 45 of 50 0.83;

and quality is that bound relative to the best bound among the candidates (`relative_quality`).
A model with the same record as the best keeps quality 1.0 and stays eligible at a no-loss
floor; one with less evidence or a worse record falls below it.

Pure functions; correctness may be fractional (the mean of several judged runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

MIN_EVIDENCE: Final = 3
Z_90: Final = 1.2815515655446004  # one-sided 90% normal quantile

T = TypeVar("T")


@dataclass(frozen=True)
class Record:
    """A model's outcomes on a group of questions: total judged correctness, and how many."""

    correct: float
    questions: int

    def __post_init__(self) -> None:
        if self.questions < 0 or not 0.0 <= self.correct <= self.questions:
            raise ValueError(f"a record needs 0 <= correct <= questions, got {self}")


def record(outcomes: Sequence[float]) -> Record:
    """The record of a model's per-question correctness values (each in [0, 1])."""
    return Record(math.fsum(outcomes), len(outcomes))


def lower_bound(r: Record, z: float = Z_90) -> float:
    """The Wilson score lower bound of the accuracy behind `r` (0 without evidence)."""
    if r.questions == 0:
        return 0.0
    n = r.questions
    p = r.correct / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(max(0.0, p * (1 - p) / n + z * z / (4 * n * n)))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def relative_quality(records: Mapping[str, Record], z: float = Z_90) -> dict[str, float]:
    """Each model's lower bound relative to the best one's (all 1.0 when no bound is above 0)."""
    bounds = {model: lower_bound(r, z) for model, r in records.items()}
    best = max(bounds.values(), default=0.0)
    if best <= 0.0:
        return dict.fromkeys(records, 1.0)
    return {model: bound / best for model, bound in bounds.items()}


def basis(
    groups: Sequence[tuple[str, Sequence[T]]], minimum: int = MIN_EVIDENCE
) -> tuple[str, Sequence[T]]:
    """The first (narrowest) named group with at least `minimum` members, else the last."""
    if not groups:
        raise ValueError("basis needs at least one group")
    return next((g for g in groups if len(g[1]) >= minimum), groups[-1])
