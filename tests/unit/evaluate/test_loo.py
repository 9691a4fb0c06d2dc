"""Leave-one-benchmark-out bookkeeping: cache keys, what a classifier saw, prompt overlap."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from router.evaluate import loo


def inputs(tmp_path: Path) -> list[Path]:
    files = []
    for name, text in (("a.py", "x = 1\n"), ("prompts.jsonl", "{}\n")):
        path = tmp_path / name
        path.write_text(text)
        files.append(path)
    return files


def test_the_cache_key_follows_every_input_and_the_exclusion(tmp_path: Path) -> None:
    files = inputs(tmp_path)
    key = loo.cache_key(files, ["routellm-mmlu"], tmp_path)
    assert key == loo.cache_key(files, ["routellm-mmlu"], tmp_path)
    assert key != loo.cache_key(files, ["routellm-gsm8k"], tmp_path)
    files[0].write_text("x = 2\n")
    assert key != loo.cache_key(files, ["routellm-mmlu"], tmp_path)


def test_a_cached_classifier_is_reused_without_training(tmp_path: Path) -> None:
    repo, data = tmp_path / "repo", tmp_path / "data"
    (repo / "router" / "classify").mkdir(parents=True)
    (repo / "training").mkdir()
    (repo / "router" / "classify" / "train.py").write_text("# trainer\n")
    (repo / "training" / "prompts.jsonl").write_text("{}\n")
    key = loo.cache_key(loo.training_inputs(repo, data), ["token-economy"], repo)
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cache / f"classifier-without-token-economy-{key}.json"
    cached.write_text("{}")
    calls: list[Sequence[str]] = []

    def trainer(argv: Sequence[str]) -> int:
        calls.append(argv)
        return 1

    assert loo.loo_classifier("token-economy", cache, data, repo=repo, trainer=trainer) == cached
    assert calls == []
    (repo / "training" / "prompts.jsonl").write_text('{"changed": true}\n')
    with pytest.raises(RuntimeError, match="training without token-economy failed"):
        loo.loo_classifier("token-economy", cache, data, repo=repo, trainer=trainer)
    assert calls and "--exclude" in calls[0] and "token-economy" in calls[0]


def test_what_a_classifier_was_trained_on() -> None:
    counts = {"examples": {"handwritten": 500, "routellm-mmlu": 14037}}
    assert loo.trained_on(counts, "routellm-mmlu")
    assert not loo.trained_on(counts, "routellm-gsm8k")
    assert not loo.trained_on({"public": False}, "routellm-mmlu")
    assert loo.trained_on({"public": True, "excluded": ["routerbench"]}, "routellm-mmlu")
    assert not loo.trained_on({"public": True, "excluded": ["routerbench"]}, "routerbench")


def test_questions_that_are_also_training_prompts_are_found(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    rows = [
        {"id": "a", "prompt": "What is the capital of  Australia?"},
        {"id": "b", "messages": [{"role": "user", "content": "How much is 1+1?"}]},
    ]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    questions = {
        "q1": "what is the capital of australia?",
        "q2": "How much is 1+1?",
        "q3": "How much is 2+2?",
    }
    assert loo.handwritten_overlap(questions, prompts) == {"q1", "q2"}
    assert loo.handwritten_overlap(questions, tmp_path / "missing.jsonl") == set()
