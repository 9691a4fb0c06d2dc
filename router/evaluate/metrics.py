"""RouteLLM's strong/weak routing metrics, as its evaluation code computes them. Pure.

A router gives every question a score (higher: more in need of the strong model). For each
threshold, questions scoring at least the threshold go to the strong model, the rest to the weak
one; quality is the mean correctness of the chosen answers and cost is the share of strong
calls. RouteLLM (`routellm/evals/benchmarks.py` and `evaluate.py`, commit 0b64fda):

- thresholds: the 11 edges of the score's 10 quantile bins (`pd.qcut(scores, 10,
  retbins=True)`); the last edge routes with `>` instead of `>=`, so the curve runs from 100%
  strong calls (the lowest edge) to 0% (the highest).
- PGR(point) = (quality - weak quality) / (strong quality - weak quality).
- APGR: the trapezoid area under quality against strong share (0..1), minus the weak model's
  area, over the strong model's minus the weak model's. With points spanning 0..1 this is the
  area under PGR. A router that ranks at random scores 0.5 in expectation.
- CPT(x): the strong share at which quality reaches weak + x (strong - weak), by linear
  interpolation along the curve (`np.interp`). Where the curve is not monotone, `np.interp` is
  undefined; we take the first crossing, which equals `np.interp` on a monotone curve.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

BINS: Final = 10

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Point:
    """One threshold: share of calls sent to the strong model (0..1) and mean quality."""

    share: float
    quality: float
    threshold: float = 0.0


@dataclass(frozen=True)
class Summary:
    """The metrics of one curve."""

    apgr: float
    cpt50: float
    cpt80: float
    auc: float


def _vector(values: Sequence[float] | Vector) -> Vector:
    return np.asarray(values, dtype=np.float64)


def quantile_thresholds(scores: Sequence[float] | Vector, bins: int = BINS) -> Vector:
    """The bin edges `pd.qcut(scores, bins, retbins=True)` returns (linear interpolation)."""
    return np.quantile(_vector(scores), np.linspace(0.0, 1.0, bins + 1))


def threshold_curve(
    scores: Sequence[float] | Vector,
    strong: Sequence[float] | Vector,
    weak: Sequence[float] | Vector,
    bins: int = BINS,
) -> list[Point]:
    """RouteLLM's curve: one point per quantile edge, sorted by strong share (stable)."""
    s, good_strong, good_weak = _vector(scores), _vector(strong), _vector(weak)
    if not len(s) == len(good_strong) == len(good_weak) or len(s) == 0:
        raise ValueError("scores, strong and weak need the same, non-zero length")
    edges = quantile_thresholds(s, bins)
    points = []
    for i, edge in enumerate(edges):
        chosen = s >= edge if i < len(edges) - 1 else s > edge
        quality = np.where(chosen, good_strong, good_weak)
        points.append(Point(float(chosen.mean()), float(quality.mean()), float(edge)))
    return sorted(points, key=lambda p: p.share)


def pgr(quality: float, strong_quality: float, weak_quality: float) -> float:
    """Performance gap recovered: 0 at the weak model's quality, 1 at the strong model's."""
    gap = strong_quality - weak_quality
    if gap == 0:
        raise ValueError("strong and weak quality are equal: PGR is undefined")
    return (quality - weak_quality) / gap


def _trapezoid(y: Vector, x: Vector) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def auc(curve: Sequence[Point]) -> float:
    """Trapezoid area under quality against strong share."""
    x = _vector([p.share for p in curve])
    y = _vector([p.quality for p in curve])
    return _trapezoid(y, x)


def apgr(curve: Sequence[Point], strong_quality: float, weak_quality: float) -> float:
    """Average performance gap recovered, exactly as RouteLLM's `apgr_metric`."""
    span = curve[-1].share - curve[0].share
    if span <= 0:
        raise ValueError("the curve must span more than one strong share")
    weak_area = weak_quality * span
    strong_area = strong_quality * span
    return (auc(curve) - weak_area) / (strong_area - weak_area)


def cpt(
    curve: Sequence[Point], fraction: float, strong_quality: float, weak_quality: float
) -> float:
    """Call-performance threshold: the strong share at which PGR first reaches `fraction`."""
    target = weak_quality + fraction * (strong_quality - weak_quality)
    first = curve[0]
    if first.quality >= target:
        return first.share
    for before, after in itertools.pairwise(curve):
        if after.quality >= target > before.quality:
            rise = after.quality - before.quality
            return before.share + (target - before.quality) / rise * (after.share - before.share)
    return curve[-1].share


def summarise(curve: Sequence[Point], strong_quality: float, weak_quality: float) -> Summary:
    return Summary(
        apgr=apgr(curve, strong_quality, weak_quality),
        cpt50=cpt(curve, 0.5, strong_quality, weak_quality),
        cpt80=cpt(curve, 0.8, strong_quality, weak_quality),
        auc=auc(curve),
    )


def random_curve(strong_quality: float, weak_quality: float, bins: int = BINS) -> list[Point]:
    """The expected curve of a router that picks the strong model at random: PGR = share."""
    shares = np.linspace(0.0, 1.0, bins + 1)
    return [
        Point(float(x), float(weak_quality + x * (strong_quality - weak_quality))) for x in shares
    ]


def random_apgr_spread(
    strong: Sequence[float] | Vector,
    weak: Sequence[float] | Vector,
    seeds: int = 200,
    bins: int = BINS,
) -> tuple[float, float, float]:
    """APGR of `seeds` seeded random routers: mean and the 2.5% and 97.5% quantiles."""
    good_strong, good_weak = _vector(strong), _vector(weak)
    strong_q, weak_q = float(good_strong.mean()), float(good_weak.mean())
    generator = np.random.default_rng(0)
    values = [
        apgr(
            threshold_curve(generator.random(len(good_strong)), good_strong, good_weak, bins),
            strong_q,
            weak_q,
        )
        for _ in range(seeds)
    ]
    low, high = np.quantile(values, [0.025, 0.975])
    return float(np.mean(values)), float(low), float(high)


def oracle_quality(
    share: float, strong: Sequence[float] | Vector, weak: Sequence[float] | Vector
) -> float:
    """RouteLLM's `get_optimal_accuracy`: the weak model's answers, upgraded to the strong
    model's where only the strong one is right, as far as `share` of all calls allows."""
    good_strong, good_weak = _vector(strong), _vector(weak)
    total = len(good_strong)
    gain = float(np.sum((good_weak == 0) & (good_strong == 1)))
    return (float(good_weak.sum()) + min(share * total, gain)) / total


def oracle_curve(
    strong: Sequence[float] | Vector, weak: Sequence[float] | Vector, bins: int = BINS
) -> list[Point]:
    return [
        Point(float(x), oracle_quality(float(x), strong, weak))
        for x in np.linspace(0.0, 1.0, bins + 1)
    ]


def as_dict(summary: Summary) -> dict[str, Any]:
    return {
        "apgr": round(summary.apgr, 4),
        "cpt50": round(summary.cpt50, 4),
        "cpt80": round(summary.cpt80, 4),
        "auc": round(summary.auc, 4),
    }
