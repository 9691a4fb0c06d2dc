"""A miniature copy of ../shared/data's layout, written per test, so loaders and training run
without the real data (and fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _csv(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    mc = "\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:"
    _jsonl(
        root / "routellm" / "mmlu.jsonl",
        [
            {
                "id": "mmlu-marketing-1",
                "subject": "marketing",
                "prompt": "What is a brand?" + mc,
                "weak_correct": True,
                "strong_correct": True,
                "contaminated": False,
            },
            {
                "id": "mmlu-college_mathematics-0",
                "subject": "college_mathematics",
                "prompt": "Find the rank of the matrix." + mc,
                "weak_correct": False,
                "strong_correct": True,
                "contaminated": False,
            },
            {
                "id": "mmlu-marketing-0",
                "subject": "marketing",
                "prompt": "dropped" + mc,
                "weak_correct": True,
                "strong_correct": True,
                "contaminated": True,
            },
        ],
    )
    _jsonl(
        root / "routellm" / "gsm8k.jsonl",
        [
            {
                "id": "gsm8k-1",
                "prompt": "Tom has 3 apples and buys 2 more. How many?",
                "answer": "5",
                "weak_correct": True,
                "strong_correct": True,
                "weak_response": "5",
                "strong_response": "5",
                "contaminated": False,
            },
            {
                "id": "gsm8k-2",
                "prompt": "A tank fills at 3 L/min and drains at 1 L/min...",
                "answer": "7",
                "weak_correct": False,
                "strong_correct": False,
                "weak_response": "6",
                "strong_response": "8",
                "contaminated": False,
            },
        ],
    )
    _jsonl(
        root / "routellm" / "mt_bench_questions.jsonl",
        [
            {
                "question_id": 81,
                "category": "writing",
                "turns": ["Write a blog post.", "Shorter."],
                "contaminated": False,
            },
            {
                "question_id": 82,
                "category": "math",
                "turns": ["Solve x+1=2.", "And x+2=3?"],
                "contaminated": True,
            },
        ],
    )
    _csv(
        root / "routellm" / "mt_bench_judgements.csv",
        [
            "question_id,model,turn,score,judge,judge_prompt_type",
            "81,gpt-4-1106-preview,1,9,gpt-4,single",
            "81,gpt-4-1106-preview,2,7,gpt-4,single",
            "81,mistralai/Mixtral-8x7B-Instruct-v0.1,1,8,gpt-4,single",
            "81,commercial-router:martian,1,2,gpt-4,single",
        ],
    )
    few_shot = "Q1?\nA) x\nB) y\nAnswer:\nA\n\nWhich gas do plants absorb?\nA) O2\nB) CO2\nAnswer:"
    _jsonl(
        root / "routerbench-subset" / "prompts.jsonl",
        [
            {
                "sample_id": "arc-challenge.test.1",
                "eval_name": "arc-challenge",
                "split": "test",
                "prompt": few_shot,
                "oracle_model": "m1",
            },
            {
                "sample_id": "mbpp.train.1",
                "eval_name": "mbpp",
                "split": "train",
                "prompt": ["Write a python function to add two numbers."],
                "oracle_model": "m2",
            },
        ],
    )
    _csv(
        root / "routerbench-subset" / "outcomes.csv",
        [
            "sample_id,eval_name,split,model,correct,total_cost_usd,response_chars",
            "arc-challenge.test.1,arc-challenge,test,m1,1.0,0.0001,1",
            "arc-challenge.test.1,arc-challenge,test,m2,0.0,0.002,1",
            "mbpp.train.1,mbpp,train,m1,,0.0003,80",
            "mbpp.train.1,mbpp,train,m2,1.0,0.004,90",
        ],
    )
    _jsonl(
        root / "token-economy" / "prompts.jsonl",
        [
            {
                "id": "capital",
                "category": "knowledge",
                "prompt": "What is the capital of Peru?",
                "in_study": True,
            },
            {
                "id": "aime",
                "category": "math",
                "prompt": "Find the sum of all n such that...",
                "in_study": True,
            },
            {"id": "extra", "category": "math", "prompt": "unused", "in_study": False},
        ],
    )
    _csv(
        root / "token-economy" / "results.csv",
        [
            "prompt_id,category,model,open_weights,runs,completion_tokens,correct,in_report",
            "capital,knowledge,a,False,5,250,1.0,True",
            "capital,knowledge,b,True,5,900,1.0,True",
            "aime,math,a,False,5,6000,0.8,True",
            "aime,math,c,True,5,9000,0.2,False",
        ],
    )
    _csv(
        root / "token-economy" / "models.csv",
        [
            "model,prompt_price_avg,completion_price_avg",
            "a,1.10,4.40",
            "b,0.20,0.80",
            "c,,",
        ],
    )
    return root
