"""Cost-quality plots (PNG) with matplotlib, from the `eval` extra; imported only when asked.

Every function takes a finished report and a path, draws with the non-interactive Agg backend,
and returns the path written, or None when matplotlib is not installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from router.evaluate.pairs import PairReport
from router.evaluate.routerbench import BenchReport
from router.evaluate.token_economy import EconomyReport


class _Totals(Protocol):
    @property
    def accuracy(self) -> float: ...

    @property
    def cost(self) -> Any: ...


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pairs(report: PairReport, path: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for curve, label, style in (
        (report.curve, f"router (APGR {report.router.apgr:.3f})", "o-"),
        (report.random_curve, "random (APGR 0.500)", "--"),
        (report.oracle_curve, f"oracle (APGR {report.oracle.apgr:.3f})", ":"),
    ):
        axes.plot(
            [100 * p.share for p in curve], [100 * p.quality for p in curve], style, label=label
        )
    axes.axhline(100 * report.strong_quality, color="red", lw=0.8, label="always strong (GPT-4)")
    axes.axhline(100 * report.weak_quality, color="grey", lw=0.8, label="always weak (Mixtral)")
    op = report.operating
    axes.plot([100 * op.share], [100 * op.quality], "k*", ms=10, label="router: tier >= moderate")
    axes.set_xlabel("strong model calls (%)")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(f"{report.benchmark}\nclassifier: {report.classifier}", fontsize=9)
    axes.legend(fontsize=8)
    return _save(plt, figure, path)


def _cost_quality(
    plt: Any,
    title: str,
    singles: Mapping[str, _Totals],
    sweep: Sequence[tuple[float, _Totals]],
    marks: Sequence[tuple[str, _Totals, str]],
    path: Path,
) -> Path:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.scatter(
        [float(t.cost) for t in singles.values()],
        [100 * t.accuracy for t in singles.values()],
        s=12,
        color="lightgrey",
        label="one model for everything",
    )
    axes.plot(
        [float(t.cost) for _, t in sweep],
        [100 * t.accuracy for _, t in sweep],
        "o-",
        ms=3,
        label="router, floors swept",
    )
    for label, totals, style in marks:
        axes.plot([float(totals.cost)], [100 * totals.accuracy], style, ms=9, label=label)
    axes.set_xscale("log")
    axes.set_xlabel("total cost (USD, log scale)")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7)
    return _save(plt, figure, path)


def plot_economy(report: EconomyReport, path: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None
    marks = [
        (f"router ({report.floors}, per-category priors)", report.routed, "k*"),
        ("router (leave-one-prompt-out priors)", report.strict_routed, "kx"),
        (f"always {report.reference}", report.always_reference, "rs"),
        ("best per category (hindsight)", report.best_per_category, "g^"),
    ]
    title = f"token-economy\nclassifier: {report.classifier}"
    return _cost_quality(plt, title, report.singles, report.sweep, marks, path)


def plot_routerbench(report: BenchReport, path: Path) -> Path | None:
    plt = _pyplot()
    if plt is None:
        return None
    marks = [
        (f"router ({report.floors})", report.routed, "k*"),
        (f"always {report.best_model}", report.always_best, "rs"),
        (f"always {report.cheapest_model}", report.always_cheapest, "bs"),
        ("oracle (hindsight)", report.oracle, "g^"),
    ]
    title = f"RouterBench test split\nclassifier: {report.classifier}"
    return _cost_quality(plt, title, report.singles, report.sweep, marks, path)


def _save(plt: Any, figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
