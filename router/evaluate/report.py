"""Results as Markdown tables (printed, and saved beside the JSON and the plots)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from router.evaluate.pairs import PairReport, table_rows
from router.evaluate.routerbench import BenchReport
from router.evaluate.token_economy import EconomyReport


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _usd(value: Decimal) -> str:
    return f"${value:.4f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def pairs_section(report: PairReport) -> str:
    header = ["router", "strong calls", "accuracy", "APGR", "CPT(50%)", "CPT(80%)"]
    title = (
        f"## {report.benchmark} ({report.items} questions; classifier: {report.classifier})\n\n"
        f"GPT-4 {_pct(report.strong_quality)}, Mixtral {_pct(report.weak_quality)}.\n\n"
    )
    kinds = report.categories
    spread = ", ".join(f"{name} {count:,}" for name, count in kinds.classified)
    footer = (
        f"\n\nCategories: {_pct(kinds.share)} of the {kinds.labelled:,} labelled questions are "
        f"classified as the benchmark labels them (classified: {spread})."
    )
    return title + markdown_table(header, table_rows(report)) + footer


def economy_section(report: EconomyReport) -> str:
    saving = report.saving
    routed, ref = report.routed, report.always_reference
    strict = report.strict_routed
    rows = [
        [
            "router, the study's per-category priors",
            _usd(routed.cost),
            _pct(routed.accuracy),
            f"{100 * saving:.1f}%",
        ],
        [
            "router, leave-one-prompt-out priors",
            _usd(strict.cost),
            _pct(strict.accuracy),
            f"{100 * (1 - float(strict.cost / ref.cost)):.1f}%",
        ],
        [f"always {report.reference} (most accurate)", _usd(ref.cost), _pct(ref.accuracy), "0%"],
        [
            f"always {report.cheapest_model} (cheapest)",
            _usd(report.always_cheapest.cost),
            _pct(report.always_cheapest.accuracy),
            f"{100 * (1 - float(report.always_cheapest.cost / ref.cost)):.1f}%",
        ],
        [
            "best model per category (hindsight)",
            _usd(report.best_per_category.cost),
            _pct(report.best_per_category.accuracy),
            f"{100 * (1 - float(report.best_per_category.cost / ref.cost)):.1f}%",
        ],
        [
            "best model per prompt (hindsight)",
            _usd(report.best_per_prompt.cost),
            _pct(report.best_per_prompt.accuracy),
            f"{100 * (1 - float(report.best_per_prompt.cost / ref.cost)):.1f}%",
        ],
    ]
    for floor, totals in report.sweep:
        rows.append(
            [
                f"router (per-category priors), floor {floor:g} at every tier",
                _usd(totals.cost),
                _pct(totals.accuracy),
                f"{100 * (1 - float(totals.cost / ref.cost)):.1f}%",
            ]
        )
    decisions = [
        [
            c.prompt,
            c.group,
            f"{c.category}/{c.tier} ({c.difficulty:.2f})",
            f"{c.model} ({c.basis})",
            _usd(c.cost),
            f"{c.correct:.1f}",
            f"{s.model} ({s.basis})",
            _usd(s.cost),
            f"{s.correct:.1f}",
            _usd(c.reference_cost),
            f"{c.reference_correct:.1f}",
        ]
        for c, s in zip(report.choices, report.strict, strict=True)
    ]
    spots = "; ".join(f"{p}: {', '.join(ms)}" for p, ms in report.blind_spots.items())
    blind = (
        f"\n\nAs good as {report.reference} on every other prompt, worse on this one (no rule "
        f"that learns only from the other prompts can tell them apart): {spots or 'none'}."
    )
    return (
        f"## token-economy ({len(report.choices)} prompts; classifier: {report.classifier}; "
        f"floors: {report.floors})\n\n"
        + markdown_table(["routing", "total cost", "accuracy", "saving"], rows)
        + blind
        + "\n\n### Decision per prompt\n\n"
        + markdown_table(
            [
                "prompt",
                "study category",
                "classified (difficulty)",
                "per-category priors: routed to (priors)",
                "cost",
                "correct",
                "leave-one-prompt-out: routed to (priors)",
                "cost",
                "correct",
                f"{report.reference} cost",
                "correct",
            ],
            decisions,
        )
    )


def routerbench_section(report: BenchReport) -> str:
    best, cheap = report.always_best, report.always_cheapest

    def row(name: str, cost: Decimal, accuracy: float) -> list[str]:
        return [name, _usd(cost), _pct(accuracy), f"{100 * (1 - float(cost / best.cost)):.1f}%"]

    rows = [
        row("router", report.routed.cost, report.routed.accuracy),
        row(f"always {report.best_model} (best on train)", best.cost, best.accuracy),
        row(f"always {report.cheapest_model} (cheapest on train)", cheap.cost, cheap.accuracy),
        row("oracle (hindsight)", report.oracle.cost, report.oracle.accuracy),
    ]
    rows.extend(row(f"router, floor {f:g}", t.cost, t.accuracy) for f, t in report.sweep)
    tasks = [
        [task, _usd(a.cost), _pct(a.accuracy), _usd(b.cost), _pct(b.accuracy)]
        for task, (a, b) in report.by_task.items()
    ]
    used = ", ".join(f"{m} {n}" for m, n in report.routed_models.items())
    return (
        f"## routerbench (test split, {best.questions} questions, {report.left_out} left out "
        f"for missing outcomes; classifier: {report.classifier}; floors: {report.floors})\n\n"
        + markdown_table(["routing", "USD", "accuracy", "saving vs best"], rows)
        + f"\n\nRouted to: {used}.\n\n"
        + markdown_table(
            ["task", "router USD", "router accuracy", "best USD", "best accuracy"], tasks
        )
    )
