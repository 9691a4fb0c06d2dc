"""Read the public per-query outcome data in ../shared/data into one shape.

Used by training (difficulty labels) and by evaluation (replaying outcomes through a policy).
Every loader returns `Item`s sorted by id, drops the rows each source marks contaminated, and
never writes anything. Benchmarks and their folders:

    routellm-mmlu     routellm/mmlu.jsonl           GPT-4 vs Mixtral correctness, 57 subjects
    routellm-gsm8k    routellm/gsm8k.jsonl          GPT-4 vs Mixtral correctness
    routellm-mtbench  routellm/mt_bench_*           GPT-4 judge scores (1-10), two turns
    routerbench       routerbench-subset/           11 models: correctness and USD cost per call
    token-economy     token-economy/                26 reasoning models: correctness, tokens

`Item.question` is the text a router should classify: for RouterBench's few-shot prompts that
is the last block (the real question), elsewhere the first user turn.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

BENCHMARKS: Final[tuple[str, ...]] = (
    "routellm-mmlu",
    "routellm-gsm8k",
    "routellm-mtbench",
    "routerbench",
    "token-economy",
)
DATA_ENV: Final = "TOKENWISE_DATA_DIR"
STRONG: Final = "gpt-4-1106-preview"
WEAK: Final = "mistralai/Mixtral-8x7B-Instruct-v0.1"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the public data lives: $TOKENWISE_DATA_DIR, else `shared/data` beside the checkout,
    else `/work/shared/data`. The first that exists wins; with none, the one beside the checkout
    (so the error names the expected place)."""
    environ = os.environ if env is None else env
    beside = Path(__file__).resolve().parents[3] / "shared" / "data"
    candidates = [Path(environ[DATA_ENV])] if environ.get(DATA_ENV) else []
    candidates += [beside, Path("/work/shared/data")]
    return next((c for c in candidates if c.is_dir()), candidates[0])


@dataclass(frozen=True)
class Outcome:
    """How one model did on one item. Fields a source does not record are None."""

    correct: float | None = None  # 0..1: judged correct (mean over runs where several)
    score: float | None = None  # judge score 1..10 (MT-Bench; mean of the two turns)
    cost_usd: Decimal | None = None  # what the call cost (RouterBench)
    completion_tokens: float | None = None  # mean billed completion tokens (token-economy)


@dataclass(frozen=True)
class Item:
    benchmark: str
    id: str
    group: str  # MMLU subject, RouterBench eval name, MT-Bench or token-economy category
    turns: tuple[str, ...]  # the user turns as the benchmark sent them
    question: str  # the text to classify
    split: str  # RouterBench's train/test split; "" elsewhere
    outcomes: dict[str, Outcome]


@dataclass(frozen=True)
class Price:
    """USD per million tokens (token-economy's OpenRouter averages, July 2025)."""

    prompt: Decimal
    completion: Decimal


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _csv(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _strong_weak(row: dict[str, Any]) -> dict[str, Outcome]:
    return {
        STRONG: Outcome(correct=float(row["strong_correct"])),
        WEAK: Outcome(correct=float(row["weak_correct"])),
    }


def load_mmlu(data_dir: Path) -> list[Item]:
    items = [
        Item(
            "routellm-mmlu",
            row["id"],
            row["subject"],
            (row["prompt"],),
            row["prompt"],
            "",
            _strong_weak(row),
        )
        for row in _jsonl(data_dir / "routellm" / "mmlu.jsonl")
        if not row["contaminated"]
    ]
    return sorted(items, key=lambda item: item.id)


def load_gsm8k(data_dir: Path) -> list[Item]:
    items = [
        Item(
            "routellm-gsm8k",
            row["id"],
            "gsm8k",
            (row["prompt"],),
            row["prompt"],
            "",
            _strong_weak(row),
        )
        for row in _jsonl(data_dir / "routellm" / "gsm8k.jsonl")
        if not row["contaminated"]
    ]
    return sorted(items, key=lambda item: item.id)


def load_mtbench(data_dir: Path) -> list[Item]:
    folder = data_dir / "routellm"
    scores: dict[tuple[str, str], list[float]] = {}
    for row in _csv(folder / "mt_bench_judgements.csv"):
        if row["model"] in (STRONG, WEAK):
            scores.setdefault((row["question_id"], row["model"]), []).append(float(row["score"]))
    items = []
    for row in _jsonl(folder / "mt_bench_questions.jsonl"):
        if row["contaminated"]:
            continue
        qid = str(row["question_id"])
        outcomes = {
            model: Outcome(score=sum(s) / len(s))
            for model in (STRONG, WEAK)
            if (s := scores.get((qid, model)))
        }
        turns = tuple(str(turn) for turn in row["turns"])
        items.append(
            Item(
                "routellm-mtbench", f"mtbench-{qid}", row["category"], turns, turns[0], "", outcomes
            )
        )
    return sorted(items, key=lambda item: item.id)


def last_block(prompt: str) -> str:
    """The real question of a few-shot prompt: its last blank-line-separated block."""
    blocks = [block for block in prompt.split("\n\n") if block.strip()]
    return blocks[-1].strip() if blocks else prompt


def load_routerbench(data_dir: Path) -> list[Item]:
    folder = data_dir / "routerbench-subset"
    outcomes: dict[str, dict[str, Outcome]] = {}
    for row in _csv(folder / "outcomes.csv"):
        correct = float(row["correct"]) if row["correct"] else None
        cost = Decimal(row["total_cost_usd"]) if row["total_cost_usd"] else None
        outcomes.setdefault(row["sample_id"], {})[row["model"]] = Outcome(
            correct=correct, cost_usd=cost
        )
    items = []
    for row in _jsonl(folder / "prompts.jsonl"):
        prompt = row["prompt"]
        turns = (prompt,) if isinstance(prompt, str) else tuple(str(p) for p in prompt)
        sid = row["sample_id"]
        items.append(
            Item(
                "routerbench",
                sid,
                row["eval_name"],
                turns,
                last_block(turns[-1]),
                row["split"],
                outcomes.get(sid, {}),
            )
        )
    return sorted(items, key=lambda item: item.id)


def load_token_economy(data_dir: Path) -> list[Item]:
    """The study's 19 main prompts with the outcomes of the 26 report models."""
    folder = data_dir / "token-economy"
    outcomes: dict[str, dict[str, Outcome]] = {}
    for row in _csv(folder / "results.csv"):
        if row["in_report"] != "True":
            continue
        outcomes.setdefault(row["prompt_id"], {})[row["model"]] = Outcome(
            correct=float(row["correct"]),
            completion_tokens=float(row["completion_tokens"]),
        )
    items = [
        Item(
            "token-economy",
            row["id"],
            row["category"],
            (row["prompt"],),
            row["prompt"],
            "",
            outcomes.get(row["id"], {}),
        )
        for row in _jsonl(folder / "prompts.jsonl")
        if row["in_study"]
    ]
    return sorted(items, key=lambda item: item.id)


def load_token_economy_prices(data_dir: Path) -> dict[str, Price]:
    """Average OpenRouter price per model (models the study did not price are left out)."""
    prices = {}
    for row in _csv(data_dir / "token-economy" / "models.csv"):
        if row["prompt_price_avg"] and row["completion_price_avg"]:
            prices[row["model"]] = Price(
                Decimal(row["prompt_price_avg"]), Decimal(row["completion_price_avg"])
            )
    return dict(sorted(prices.items()))


LOADERS: Final[dict[str, Callable[[Path], list[Item]]]] = {
    "routellm-mmlu": load_mmlu,
    "routellm-gsm8k": load_gsm8k,
    "routellm-mtbench": load_mtbench,
    "routerbench": load_routerbench,
    "token-economy": load_token_economy,
}


def load(benchmark: str, data_dir: Path) -> list[Item]:
    """All clean items of one benchmark (a name from BENCHMARKS)."""
    if benchmark not in LOADERS:
        raise ValueError(
            f"unknown benchmark {benchmark!r}; expected one of {', '.join(BENCHMARKS)}"
        )
    return LOADERS[benchmark](data_dir)
