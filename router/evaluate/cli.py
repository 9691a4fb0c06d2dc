"""`tokenwise eval`: replay public per-query outcomes through the classifier and a routing rule.

    tokenwise eval --loo                                   # every benchmark, headline figures
    tokenwise eval --benchmark routellm-gsm8k --loo
    tokenwise eval --benchmark token-economy --classifier my.json --policy economy

A benchmark's figures come only from a classifier that never saw it: with `--loo`, the one the
training script builds with `--exclude BENCHMARK` (cached, see `router.evaluate.loo`); without
it, `--classifier` (default: the shipped artifact), and a benchmark that classifier was trained
on is refused. Questions that are also hand-written training prompts are left out. Writes
`<out>/report.md`, `<out>/results.json` and one PNG per benchmark (with the `eval` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from router.classify.artifact import ArtifactError
from router.classify.model import Classifier, load_classifier
from router.classify.public_data import (
    DATA_ENV,
    Item,
    default_data_dir,
    load,
    load_token_economy_prices,
)
from router.evaluate import (
    economy_priors,
    loo,
    pairs,
    plot,
    report,
    routerbench,
    study,
    token_economy,
)
from router.evaluate.args import BENCHMARKS
from router.evaluate.replay import replay


def _out_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    home = os.environ.get("TOKENWISE_HOME")
    return (Path(home) if home else Path.cwd() / ".tokenwise") / "eval"


def _sample(items: list[Item], limit: int) -> list[Item]:
    if not limit or len(items) <= limit:
        return items
    ranked = sorted(items, key=lambda i: (zlib.crc32(i.id.encode("utf-8")), i.id))[:limit]
    return sorted(ranked, key=lambda i: i.id)


def _classifier_for(
    benchmark: str, args: argparse.Namespace, out: Path, data_dir: Path
) -> tuple[Classifier, str] | str:
    """The classifier to evaluate `benchmark` with and its label, or why there is none."""
    if args.loo:
        path = loo.loo_classifier(benchmark, out / "loo-cache", data_dir)
        key = path.stem.rsplit("-", 1)[-1]
        return load_classifier(path), f"trained without {benchmark} (loo-cache key {key})"
    classifier = load_classifier(args.classifier)
    name = Path(args.classifier).name if args.classifier else "shipped classifier.json"
    if loo.trained_on(classifier.weights.training, benchmark):
        return (
            f"{benchmark}: refused: {name} was trained on {benchmark}'s items, so its figures "
            f"would be in-sample. Use --loo, or a classifier built with --exclude {benchmark}."
        )
    return classifier, name


def _evaluate(
    benchmark: str,
    classifier: Classifier,
    label: str,
    items: list[Item],
    args: argparse.Namespace,
    data_dir: Path,
    out: Path,
) -> tuple[str, dict[str, Any], Path | None]:
    replayed = replay(classifier, items, benchmark, show=not args.quiet)
    png = out / f"{benchmark}.png"
    if benchmark in ("routellm-mmlu", "routellm-gsm8k"):
        pair = pairs.evaluate_pairs(benchmark, label, replayed)
        return report.pairs_section(pair), pairs.as_dict(pair), plot.plot_pairs(pair, png)
    floors = study.floors_of(args.policy)
    if benchmark == "token-economy":
        prices = load_token_economy_prices(data_dir)
        summary = economy_priors.load_summary(data_dir)
        economy = token_economy.evaluate_economy(
            replayed, prices, floors, args.policy, label, summary
        )
        return (
            report.economy_section(economy),
            token_economy.as_dict(economy),
            plot.plot_economy(economy, png),
        )
    bench = routerbench.evaluate_routerbench(replayed, floors, args.policy, label)
    return (
        report.routerbench_section(bench),
        routerbench.as_dict(bench),
        plot.plot_routerbench(bench, png),
    )


def _collect(out: Path) -> None:
    """report.md and results.json from every benchmark evaluated into `out` so far."""
    sections = []
    results = {}
    for benchmark in BENCHMARKS:
        if (out / f"{benchmark}.json").is_file() and (out / f"{benchmark}.md").is_file():
            sections.append((out / f"{benchmark}.md").read_text())
            results[benchmark] = json.loads((out / f"{benchmark}.json").read_text())
    (out / "report.md").write_text("# tokenwise eval\n\n" + "\n".join(sections))
    (out / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def run_eval(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    out = _out_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        study.floors_of(args.policy)
    except ValueError as exc:
        print(f"tokenwise eval: {exc}", file=sys.stderr)
        return 2
    chosen = BENCHMARKS if args.benchmark == "all" else (args.benchmark,)
    try:
        refused = _run(chosen, args, data_dir, out, echo)
    except (ArtifactError, RuntimeError) as exc:
        print(f"tokenwise eval: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(
            f"tokenwise eval: cannot read {exc.filename}: point --data-dir (or ${DATA_ENV}) at "
            "the public data (routellm/, routerbench-subset/, token-economy/)",
            file=sys.stderr,
        )
        return 2
    _collect(out)
    print(f"eval: wrote {out / 'report.md'} and {out / 'results.json'}", file=sys.stderr)
    return 2 if refused else 0


def _run(
    chosen: tuple[str, ...],
    args: argparse.Namespace,
    data_dir: Path,
    out: Path,
    echo: Callable[[str], None],
) -> int:
    """Evaluate each benchmark; the number refused as in-sample."""
    refused = 0
    for benchmark in chosen:
        found = _classifier_for(benchmark, args, out, data_dir)
        if isinstance(found, str):
            print(found, file=sys.stderr)
            refused += 1
            for stale in (f"{benchmark}.md", f"{benchmark}.json", f"{benchmark}.png"):
                (out / stale).unlink(missing_ok=True)
            continue
        classifier, label = found
        items = _sample(load(benchmark, data_dir), args.limit)
        prompts = loo.repository() / "training" / "prompts.jsonl"
        overlap = loo.handwritten_overlap({i.id: i.question for i in items}, prompts)
        items = [i for i in items if i.id not in overlap]
        section, result, png = _evaluate(benchmark, classifier, label, items, args, data_dir, out)
        result["left_out_as_training_prompts"] = sorted(overlap)
        result["plot"] = png.name if png else None
        note = f"\n\nLeft out (also hand-written training prompts): {len(overlap)}."
        if png is None:
            note += " No plot: install the eval extra (pip install 'tokenwise[eval]')."
        (out / f"{benchmark}.md").write_text(section + note + "\n")
        (out / f"{benchmark}.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        echo(section + note + "\n")
    return refused
