import json
from pathlib import Path

import pytest

from router.classify import public_data
from router.classify.examples import ROUTERBENCH_PAIR, LabelRule, label_public, load_handwritten
from router.classify.labels import CATEGORIES, TIERS
from router.classify.model import load_classifier
from router.classify.public_data import STRONG, WEAK, Item, Outcome
from router.classify.train import REPO, main

PROMPTS = REPO / "training" / "prompts.jsonl"


def test_shipped_prompts_cover_every_category_and_tier() -> None:
    rows = [json.loads(line) for line in PROMPTS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 500
    assert all(row["source"] == "handwritten" for row in rows)
    cells = {(row["category"], row["tier"]) for row in rows}
    assert cells == {(c, t) for c in CATEGORIES for t in TIERS}
    counts = {cell: sum((r["category"], r["tier"]) == cell for r in rows) for cell in cells}
    assert min(counts.values()) >= 8
    assert len(load_handwritten(PROMPTS)) == len(rows)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"id": "a", "category": "code", "tier": "easy", "prompt": "x"}, "bad category"),
        ({"id": "a", "category": "poetry", "tier": "hard", "prompt": "x"}, "bad category"),
        ({"id": "a", "category": "code", "tier": "hard"}, "needs a 'prompt'"),
        ({"category": "code", "tier": "hard", "prompt": "x"}, "duplicate id"),
    ],
)
def test_bad_handwritten_lines_are_refused_with_their_line_number(
    tmp_path: Path, line: dict[str, str], message: str
) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_handwritten(path)
    assert "prompts.jsonl:1" in str(error.value)


def test_public_labels_follow_the_documented_rules(data_dir: Path) -> None:
    items = public_data.load("routellm-mmlu", data_dir)
    table = {e.id: e for e in label_public(items, LabelRule("table"))}
    assert table["mmlu-marketing-1"].difficulty == 0.35  # both models right
    assert table["mmlu-college_mathematics-0"].difficulty == 0.65  # only the strong one
    assert table["mmlu-marketing-1"].difficulty_weight is None  # as `weight`
    mmlu = {e.id: e for e in label_public(items)}  # the shipped rule: what routing can change
    assert mmlu["mmlu-college_mathematics-0"].difficulty == 1.0
    assert mmlu["mmlu-marketing-1"].difficulty == 0.5  # both right: routing can't help
    # a concordant row weighs a quarter of a discordant one; the benchmark keeps its share
    assert mmlu["mmlu-college_mathematics-0"].difficulty_weight == pytest.approx(200.0)
    assert mmlu["mmlu-marketing-1"].difficulty_weight == pytest.approx(50.0)
    assert mmlu["mmlu-college_mathematics-0"].category == "math"
    assert mmlu["mmlu-marketing-1"].offset_group == "routellm-mmlu"
    assert sum(e.weight for e in mmlu.values()) == pytest.approx(250.0)
    gsm8k = label_public(public_data.load("routellm-gsm8k", data_dir))
    assert [e.difficulty for e in gsm8k] == [0.5, 0.5]  # no discordant question
    assert [e.difficulty_weight for e in gsm8k] == pytest.approx([60.0, 60.0])
    dropped = label_public(
        public_data.load("routellm-gsm8k", data_dir), LabelRule(concordant_weight=0)
    )
    assert [e.difficulty_weight for e in dropped] == [0.0, 0.0]
    bench = {e.id: e for e in label_public(public_data.load("routerbench", data_dir))}
    assert bench["arc-challenge.test.1"].category == "knowledge"
    assert bench["arc-challenge.test.1"].difficulty == pytest.approx(0.15 + 0.6 * 0.5)
    assert bench["mbpp.train.1"].difficulty == pytest.approx(0.25)  # the unknown row is skipped
    economy = {e.id: e for e in label_public(public_data.load("token-economy", data_dir))}
    assert economy["capital"].difficulty < 0.4 < economy["aime"].difficulty
    assert economy["aime"].offset_group is None


def test_discordant_pair_labels_are_what_routing_can_change(data_dir: Path) -> None:
    rule = LabelRule("discordant", concordant_weight=0.25)
    mmlu = {e.id: e for e in label_public(public_data.load("routellm-mmlu", data_dir), rule)}
    only_strong, both = mmlu["mmlu-college_mathematics-0"], mmlu["mmlu-marketing-1"]
    assert (only_strong.difficulty, both.difficulty) == (1.0, 0.5)
    # the benchmark keeps its share; a concordant row weighs a quarter of a discordant one
    assert only_strong.difficulty_weight == pytest.approx(200.0)
    assert both.difficulty_weight == pytest.approx(50.0)
    assert only_strong.weight == both.weight == pytest.approx(125.0)  # the category head's


def _bench(sid: str, strong: float | None, weak: float) -> Item:
    outcomes = {"other": Outcome(correct=0.0)}
    if strong is not None:
        outcomes[ROUTERBENCH_PAIR[0]] = Outcome(correct=strong)
    outcomes[ROUTERBENCH_PAIR[1]] = Outcome(correct=weak)
    return Item("routerbench", sid, "arc-challenge", (sid,), sid, "train", outcomes)


def test_routerbench_can_be_labelled_by_its_gpt4_and_mixtral_runs() -> None:
    items = [_bench("a", 1.0, 0.0), _bench("b", 0.0, 1.0), _bench("c", 1.0, 1.0)]
    items.append(_bench("d", None, 1.0))  # no GPT-4 run: the share-failed band instead
    rule = LabelRule("discordant", concordant_weight=0.0, routerbench_pairs=True)
    labels = {e.id: (e.difficulty, e.difficulty_weight) for e in label_public(items, rule)}
    share = 200.0 / 3  # RouterBench's 200 over the three rows that count
    assert labels["a"] == (1.0, pytest.approx(share))
    assert labels["b"] == (0.0, pytest.approx(share))
    assert labels["c"] == (0.5, 0.0)
    assert labels["d"] == (pytest.approx(0.15 + 0.6 * 0.5), pytest.approx(share))
    table = {e.id: e.difficulty for e in label_public(items, LabelRule("table"))}
    assert table["a"] == pytest.approx(0.15 + 0.6 * 2 / 3)


def _mtbench(qid: str, strong: float | None, weak: float) -> Item:
    outcomes = {WEAK: Outcome(score=weak)}
    if strong is not None:
        outcomes[STRONG] = Outcome(score=strong)
    return Item("routellm-mtbench", qid, "writing", (qid,), qid, "", outcomes)


def test_mtbench_is_labelled_by_gpt4s_lead_over_mixtral() -> None:
    items = [_mtbench("lead", 9.0, 6.0), _mtbench("tie", 8.0, 8.0), _mtbench("behind", 5.0, 9.0)]
    items += [_mtbench("rout", 10.0, 1.0), _mtbench("unjudged", None, 7.0)]
    labels = {e.id: e.difficulty for e in label_public(items)}
    assert labels == {"lead": 1.0, "tie": 0.5, "behind": 0.0, "rout": 1.0}  # clipped to [0, 1]
    half = {e.id: e.difficulty for e in label_public([_mtbench("lead", 8.5, 7.0)])}
    assert half["lead"] == pytest.approx(0.75)  # 0.5 + lead / 6 points
    table = {e.id: e.difficulty for e in label_public(items[:3], LabelRule("table"))}
    assert table["tie"] == pytest.approx(0.4 + 0.08 * (9.5 - 8.0))  # the earlier rule: mean score


def _train(data_dir: Path, prompts: Path, out: Path, *extra: str) -> bytes:
    argv = ["--prompts", str(prompts), "--data-dir", str(data_dir), "--out", str(out)]
    assert main([*argv, "--hash-dim", "1024", "--iterations", "25", *extra]) == 0
    return out.read_bytes()


def _subset(tmp_path: Path) -> Path:
    lines = PROMPTS.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(lines[::8]) + "\n", encoding="utf-8")
    return path


def test_training_is_reproducible_bit_for_bit(data_dir: Path, tmp_path: Path) -> None:
    prompts = _subset(tmp_path)
    first = _train(data_dir, prompts, tmp_path / "a.json")
    second = _train(data_dir, prompts, tmp_path / "b.json")
    assert first == second
    trained = load_classifier(tmp_path / "a.json")
    assert trained.weights.training["examples"]["routellm-mmlu"] == 2
    assert trained.classify_text("hello").category in CATEGORIES


def test_excluding_a_benchmark_changes_the_inputs_and_is_recorded(
    data_dir: Path, tmp_path: Path
) -> None:
    prompts = _subset(tmp_path)
    out = tmp_path / "loo.json"
    _train(data_dir, prompts, out, "--exclude", "routellm-mmlu", "--exclude", "routerbench")
    training = load_classifier(out).weights.training
    assert training["excluded"] == ["routellm-mmlu", "routerbench"]
    assert "routellm-mmlu" not in training["examples"]
    assert training["examples"]["routellm-gsm8k"] == 2


def test_unknown_exclusion_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as error:
        main(["--exclude", "imagenet", "--out", str(tmp_path / "x.json")])
    assert error.value.code == 2
