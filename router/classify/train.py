"""Train the classifier and write its artifact: `tokenwise train` / scripts/train_classifier.py.

    python scripts/train_classifier.py                       # the shipped artifact
    python scripts/train_classifier.py --exclude routellm-mmlu --out /tmp/no-mmlu.json
    python scripts/train_classifier.py --folds 5 --no-public # held-out accuracy on our prompts

Reproducible bit for bit: inputs are sorted by id, sampling uses crc32 of ids, feature hashing
uses crc32, and the optimiser is deterministic. The artifact records what went in (sources,
counts, excluded benchmarks, a digest of the prompts file) and nothing machine-specific.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from router.classify.artifact import Weights, encode
from router.classify.examples import Example, LabelRule, label_public, load_handwritten
from router.classify.features import FeatureExtractor
from router.classify.fit import L2, Design, Targets, calibrate, design, difficulty_logits, fit
from router.classify.labels import CATEGORIES, tier_of
from router.classify.model import Classifier
from router.classify.public_data import BENCHMARKS, default_data_dir, load
from router.classify.request import view

REPO: Final = Path(__file__).resolve().parents[2]
HASH_DIM: Final = 32768
L2_HASHED: Final = 3e-4
L2_HASHED_DIFFICULTY: Final = 3e-4
L2_DENSE: Final = 1e-2
PAIR_LABELS: Final = LabelRule().pairs
CONCORDANT_WEIGHT: Final = LabelRule().concordant_weight
ROUTERBENCH_PAIRS: Final = LabelRule().routerbench_pairs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tokenwise train", description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=Path, default=REPO / "training" / "prompts.jsonl")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--exclude", action="append", default=[], choices=BENCHMARKS)
    parser.add_argument("--no-public", action="store_true", help="hand-written prompts only")
    parser.add_argument("--limit", type=int, default=0, help="at most N items per benchmark")
    parser.add_argument("--out", type=Path, default=REPO / "router" / "data" / "classifier.json")
    parser.add_argument("--hash-dim", type=int, default=HASH_DIM)
    parser.add_argument("--l2-hashed", type=float, default=L2_HASHED)
    parser.add_argument("--l2-hashed-difficulty", type=float, default=L2_HASHED_DIFFICULTY)
    parser.add_argument("--l2-dense", type=float, default=L2_DENSE)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument(
        "--pair-labels",
        choices=("table", "discordant"),
        default=PAIR_LABELS,
        help="strong/weak outcomes as a four-outcome table or as what routing can change",
    )
    parser.add_argument("--concordant-weight", type=float, default=CONCORDANT_WEIGHT)
    parser.add_argument(
        "--routerbench-pairs",
        action=argparse.BooleanOptionalAction,
        default=ROUTERBENCH_PAIRS,
        help="label RouterBench by its GPT-4/Mixtral runs like the RouteLLM pairs",
    )
    parser.add_argument(
        "--folds", type=int, default=0, help="report K-fold accuracy on the hand-written prompts"
    )
    return parser.parse_args(argv)


def _stable_key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def collect(args: argparse.Namespace) -> list[Example]:
    examples = load_handwritten(args.prompts)
    if args.no_public:
        return examples
    rule = LabelRule(args.pair_labels, args.concordant_weight, args.routerbench_pairs)
    for benchmark in BENCHMARKS:
        if benchmark in args.exclude:
            continue
        items = load(benchmark, args.data_dir or default_data_dir())
        if args.limit:
            items = sorted(items, key=lambda item: (_stable_key(item.id), item.id))[: args.limit]
            items.sort(key=lambda item: item.id)
        examples.extend(label_public(items, rule))
    return examples


def _matrices(examples: Sequence[Example], hash_dim: int) -> tuple[Design, Targets]:
    extractor = FeatureExtractor(hash_dim)
    rows = [extractor.extract(view(example.body)) for example in examples]
    names = sorted({e.offset_group for e in examples if e.offset_group})
    group_index = {name: i for i, name in enumerate(names)}
    groups = [group_index[e.offset_group] if e.offset_group else -1 for e in examples]
    index = {name: i for i, name in enumerate(CATEGORIES)}
    targets = Targets(
        category=np.asarray(
            [index[e.category] if e.category else -1 for e in examples], dtype=np.int64
        ),
        category_weight=np.asarray([e.weight for e in examples]),
        difficulty=np.asarray([e.difficulty for e in examples]),
        difficulty_weight=np.asarray(
            [e.weight if e.difficulty_weight is None else e.difficulty_weight for e in examples]
        ),
    )
    return design(rows, hash_dim, groups), targets


def train(examples: Sequence[Example], args: argparse.Namespace) -> Weights:
    x, y = _matrices(examples, args.hash_dim)
    l2 = L2(args.l2_hashed, args.l2_hashed_difficulty, args.l2_dense)
    params, report = fit(x, y, l2, iterations=args.iterations)
    hand = np.asarray([e.source == "handwritten" for e in examples])
    calibration = calibrate(difficulty_logits(x, params)[hand], y.difficulty[hand])
    sources = Counter(e.source for e in examples)
    training: dict[str, Any] = {
        "examples": dict(sorted(sources.items())),
        "excluded": sorted(args.exclude),
        "public": not args.no_public,
        "limit": args.limit,
        "l2_hashed": args.l2_hashed,
        "l2_hashed_difficulty": args.l2_hashed_difficulty,
        "l2_dense": args.l2_dense,
        "pair_labels": args.pair_labels,
        "concordant_weight": args.concordant_weight,
        "routerbench_pairs": args.routerbench_pairs,
        "prompts_sha256": hashlib.sha256(args.prompts.read_bytes()).hexdigest(),
        **report,
    }
    return Weights(args.hash_dim, params.hashed, params.dense, params.bias, calibration, training)


def cross_validate(examples: list[Example], args: argparse.Namespace) -> dict[str, float]:
    """Category and tier accuracy on hand-written prompts held out fold by fold."""
    folds = args.folds
    hand = [e for e in examples if e.source == "handwritten"]
    fold_of = {e.id: _stable_key(e.id) % folds for e in hand}
    category_hits = tier_hits = adjacent = 0
    for fold in range(folds):
        held = [e for e in hand if fold_of[e.id] == fold]
        kept = [e for e in examples if fold_of.get(e.id) != fold]
        classifier = Classifier(train(kept, args))
        for example in held:
            result = classifier.classify(example.body)
            truth = tier_of(example.difficulty)
            category_hits += result.category == example.category
            tier_hits += result.tier == truth
            adjacent += abs(_tier_rank(result.tier) - _tier_rank(truth)) <= 1
    total = max(1, len(hand))
    return {
        "held_out": float(len(hand)),
        "category_accuracy": category_hits / total,
        "tier_accuracy": tier_hits / total,
        "tier_within_one": adjacent / total,
    }


def _tier_rank(tier: str) -> int:
    return ("trivial", "simple", "moderate", "hard").index(tier)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    examples = collect(args)
    counts = Counter(e.source for e in examples)
    print("examples: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())), file=sys.stderr)
    if args.folds:
        scores = cross_validate(examples, args)
        print(" ".join(f"{k}={v:.3f}" for k, v in scores.items()))
        return 0
    weights = train(examples, args)
    payload = encode(weights)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(payload)
    report = weights.training
    print(
        f"wrote {args.out} ({len(payload)} bytes; {report['iterations']} iterations, "
        f"loss {report['loss']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
