"""Strong/weak benchmarks (RouteLLM MMLU and GSM8K): sweep a threshold on the router's score.

The score is the classifier's difficulty logit: a question the classifier finds harder goes to
the strong model first. Reported against the always-strong and always-weak baselines, the
expected random router (PGR equal to the strong share: APGR 0.5, CPT(x) = x), 200 seeded
random routers (the spread a random ranking shows on this very data), and the oracle (RouteLLM's
`get_optimal_accuracy`). The router's own operating point (strong model when its tier is
moderate or hard, i.e. difficulty >= 0.5) is compared with random at the same strong share.
Beside the ranking, how often the classifier names the category the benchmark's items are
labelled with for training (`benchmark_category`: math for GSM8K and MMLU's mathematics
subjects, logic for formal logic, knowledge for the other subjects).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from router.classify.examples import benchmark_category
from router.classify.labels import TIER_BOUNDS
from router.classify.public_data import STRONG, WEAK
from router.evaluate import metrics
from router.evaluate.metrics import Point, Summary
from router.evaluate.replay import Replayed

OPERATING_DIFFICULTY = TIER_BOUNDS[1]


@dataclass(frozen=True)
class Operating:
    """The router used as is: strong model when difficulty >= OPERATING_DIFFICULTY."""

    share: float
    quality: float
    pgr: float
    random_quality: float  # the expected random router at the same strong share


@dataclass(frozen=True)
class Categories:
    """The classifier's categories against the benchmark's own labels."""

    labelled: int  # items with a benchmark category
    right: int
    classified: tuple[tuple[str, int], ...]  # (category, items so classified), commonest first

    @property
    def share(self) -> float:
        return self.right / self.labelled if self.labelled else 0.0


def categories(replayed: Sequence[Replayed]) -> Categories:
    labelled = [(r, want) for r in replayed if (want := benchmark_category(r.item)) is not None]
    right = sum(r.classification.category == want for r, want in labelled)
    counts = Counter(r.classification.category for r, _ in labelled)
    ordered = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Categories(len(labelled), right, ordered)


@dataclass(frozen=True)
class PairReport:
    benchmark: str
    classifier: str
    items: int
    strong_quality: float
    weak_quality: float
    router: Summary
    curve: list[Point]
    random: Summary
    random_curve: list[Point]
    random_seeds: tuple[float, float, float]  # APGR mean, 2.5% and 97.5% over 200 seeds
    oracle: Summary
    oracle_curve: list[Point]
    operating: Operating
    categories: Categories


def _outcomes(replayed: Sequence[Replayed]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    strong = []
    weak = []
    for r in replayed:
        s, w = r.item.outcomes[STRONG].correct, r.item.outcomes[WEAK].correct
        if s is None or w is None:
            raise ValueError(f"{r.item.id}: strong/weak correctness missing")
        strong.append(s)
        weak.append(w)
    return np.asarray(strong, dtype=np.float64), np.asarray(weak, dtype=np.float64)


def evaluate_pairs(
    benchmark: str,
    classifier: str,
    replayed: Sequence[Replayed],
    scores: Sequence[float] | None = None,
) -> PairReport:
    """Metrics of the router (scores default to the difficulty logits) and its baselines."""
    strong, weak = _outcomes(replayed)
    s_q, w_q = float(strong.mean()), float(weak.mean())
    values = [r.difficulty_logit for r in replayed] if scores is None else list(scores)
    curve = metrics.threshold_curve(values, strong, weak)
    rand = metrics.random_curve(s_q, w_q)
    oracle = metrics.oracle_curve(strong, weak)
    chosen = np.asarray([r.classification.difficulty >= OPERATING_DIFFICULTY for r in replayed])
    share = float(chosen.mean())
    quality = float(np.where(chosen, strong, weak).mean())
    return PairReport(
        benchmark=benchmark,
        classifier=classifier,
        items=len(replayed),
        strong_quality=s_q,
        weak_quality=w_q,
        router=metrics.summarise(curve, s_q, w_q),
        curve=curve,
        random=metrics.summarise(rand, s_q, w_q),
        random_curve=rand,
        random_seeds=metrics.random_apgr_spread(strong, weak),
        oracle=metrics.summarise(oracle, s_q, w_q),
        oracle_curve=oracle,
        operating=Operating(
            share=share,
            quality=quality,
            pgr=metrics.pgr(quality, s_q, w_q),
            random_quality=w_q + share * (s_q - w_q),
        ),
        categories=categories(replayed),
    )


def table_rows(report: PairReport) -> list[list[str]]:
    """Rows of the results table: name, strong share, quality, APGR, CPT(50%), CPT(80%)."""

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    def row(name: str, share: str, quality: str, summary: Summary | None) -> list[str]:
        if summary is None:
            return [name, share, quality, "", "", ""]
        return [
            name,
            share,
            quality,
            f"{summary.apgr:.3f}",
            pct(summary.cpt50),
            pct(summary.cpt80),
        ]

    mean, low, high = report.random_seeds
    op = report.operating
    return [
        row("always strong (GPT-4)", "100%", pct(report.strong_quality), None),
        row("always weak (Mixtral)", "0%", pct(report.weak_quality), None),
        row("random (expected)", "sweep", "", report.random),
        [
            "random (200 seeds)",
            "sweep",
            "",
            f"{mean:.3f} [{low:.3f}, {high:.3f}]",
            "",
            "",
        ],
        row("router: difficulty sweep", "sweep", "", report.router),
        [
            "router: tier >= moderate",
            pct(op.share),
            pct(op.quality),
            f"PGR {op.pgr:.3f}",
            f"random: {pct(op.random_quality)}",
            "",
        ],
        row("oracle", "sweep", "", report.oracle),
    ]


def as_dict(report: PairReport) -> dict[str, Any]:
    mean, low, high = report.random_seeds
    return {
        "benchmark": report.benchmark,
        "classifier": report.classifier,
        "items": report.items,
        "strong_quality": round(report.strong_quality, 4),
        "weak_quality": round(report.weak_quality, 4),
        "router": metrics.as_dict(report.router),
        "random": metrics.as_dict(report.random),
        "random_seeds_apgr": {
            "mean": round(mean, 4),
            "p2.5": round(low, 4),
            "p97.5": round(high, 4),
        },
        "oracle": metrics.as_dict(report.oracle),
        "operating_point": {
            "strong_share": round(report.operating.share, 4),
            "quality": round(report.operating.quality, 4),
            "pgr": round(report.operating.pgr, 4),
            "random_quality_same_share": round(report.operating.random_quality, 4),
        },
        "categories": {
            "labelled": report.categories.labelled,
            "right": report.categories.right,
            "share": round(report.categories.share, 4),
            "classified": dict(report.categories.classified),
        },
        "curve": [
            {"strong_share": round(p.share, 4), "quality": round(p.quality, 4)}
            for p in report.curve
        ],
    }
