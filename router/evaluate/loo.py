"""Leave-one-benchmark-out classifiers: built by the shipped training script, cached by content.

The headline figure for a benchmark comes from a classifier that never saw any of that
benchmark's items: `router.classify.train` run with `--exclude BENCHMARK`, exactly the script
and options that build the shipped artifact otherwise. Training is reproducible bit for bit, so
a cached file is reused only when its key matches: a digest of the training code, the
hand-written prompts, the public data files and the exclusion. Anything that changes the
artifact changes the key, and a stale file is never used.

Cache: `<dir>/classifier-without-<benchmark>-<key>.json`, where `<dir>` is `--out`/loo-cache
or `$TOKENWISE_HOME/eval/loo-cache`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

KEY_LENGTH: Final = 16
# The public data files each benchmark's loader reads (router/classify/public_data.py).
DATA_FILES: Final[tuple[str, ...]] = (
    "routellm/mmlu.jsonl",
    "routellm/gsm8k.jsonl",
    "routellm/mt_bench_questions.jsonl",
    "routellm/mt_bench_judgements.csv",
    "routerbench-subset/outcomes.csv",
    "routerbench-subset/prompts.jsonl",
    "token-economy/results.csv",
    "token-economy/prompts.jsonl",
)

Trainer = Callable[[Sequence[str]], int]


def repository() -> Path:
    """The checkout the package runs from (training needs its `training/` folder)."""
    return Path(__file__).resolve().parents[2]


def training_inputs(repo: Path, data_dir: Path) -> list[Path]:
    code = sorted((repo / "router" / "classify").glob("*.py"))
    return [*code, repo / "training" / "prompts.jsonl", *(data_dir / f for f in DATA_FILES)]


def cache_key(inputs: Sequence[Path], excluded: Sequence[str], root: Path) -> str:
    """A digest of every input's path (relative to `root` where possible) and bytes."""
    digest = hashlib.sha256()
    for path in inputs:
        name = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        digest.update(str(name).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.exists() else b"-")
    digest.update(("\0".join(sorted(excluded))).encode())
    return digest.hexdigest()[:KEY_LENGTH]


def _train_in_process(argv: Sequence[str]) -> int:
    from router.classify.train import main

    return main(list(argv))


def loo_classifier(
    benchmark: str,
    cache_dir: Path,
    data_dir: Path,
    *,
    repo: Path | None = None,
    trainer: Trainer = _train_in_process,
) -> Path:
    """The artifact trained without `benchmark`, built now unless the cache has it."""
    root = repo or repository()
    key = cache_key(training_inputs(root, data_dir), [benchmark], root)
    path = cache_dir / f"classifier-without-{benchmark}-{key}.json"
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    print(f"eval: training a classifier without {benchmark} -> {path}", file=sys.stderr)
    argv = ["--data-dir", str(data_dir), "--exclude", benchmark, "--out", str(partial)]
    status = trainer(argv)
    if status != 0 or not partial.is_file():
        raise RuntimeError(f"training without {benchmark} failed (exit {status})")
    partial.replace(path)
    return path


def trained_on(training: Mapping[str, Any], benchmark: str) -> bool:
    """Whether a classifier whose artifact records `training` saw `benchmark`'s items."""
    examples = training.get("examples")
    if isinstance(examples, Mapping) and examples:
        return int(examples.get(benchmark, 0)) > 0
    if not training.get("public", True):
        return False
    return benchmark not in {str(name) for name in training.get("excluded", [])}


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def handwritten_overlap(questions: Mapping[str, str], prompts: Path) -> set[str]:
    """Ids of questions whose text (case and spacing aside) is also a hand-written prompt."""
    if not prompts.is_file():
        return set()
    seen: set[str] = set()
    with prompts.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            texts = [row.get("prompt")] + [
                m.get("content") for m in row.get("messages") or [] if isinstance(m, dict)
            ]
            seen.update(_normal(t) for t in texts if isinstance(t, str))
    return {key for key, text in questions.items() if _normal(text) in seen}
