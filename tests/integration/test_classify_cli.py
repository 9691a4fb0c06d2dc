"""`tokenwise classify`: the decision for one prompt, and the --jsonl contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CATEGORIES = {"knowledge", "chat", "writing", "transform", "code", "math", "logic"}
TIERS = {"trivial", "simple", "moderate", "hard"}
EFFORTS = {"none", "minimal", "low", "medium", "high", "xhigh", "max"}


def tokenwise(
    args: list[str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_jsonl_one_line_per_input_in_order(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "prompt": "What is the capital of Australia?"}),
        "this is not json",
        json.dumps(
            {
                "id": "b",
                "messages": [
                    {
                        "role": "user",
                        "content": "Prove that sqrt(2) is "
                        "irrational, then generalise to sqrt(p) for every prime p.",
                    }
                ],
            }
        ),
        json.dumps({"id": "c"}),
        json.dumps({"prompt": "hi there!"}),
    ]
    result = tokenwise(["classify", "--jsonl", "-"], tmp_path, "\n".join(lines) + "\n")
    assert result.returncode == 2, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5
    assert rows[1] == {"line": 2, "error": rows[1]["error"]}
    assert rows[1]["error"].startswith("not a JSON object") and '"prompt"' in rows[1]["error"]
    assert rows[3]["line"] == 4 and "prompt" in rows[3]["error"]
    good = [rows[0], rows[2], rows[4]]
    assert [r["id"] for r in good] == ["a", "b", 5]
    for r in good:
        assert set(r) == {"id", "category", "tier", "difficulty", "effort", "model"}
        assert r["category"] in CATEGORIES and r["tier"] in TIERS and r["effort"] in EFFORTS
        assert 0 <= r["difficulty"] <= 1
        assert r["model"].startswith("sim-")
    assert rows[0]["model"] == "sim-small" and rows[0]["effort"] == "none"
    assert rows[2]["category"] == "math" and rows[2]["effort"] != "none"
    assert not (tmp_path / ".tokenwise").exists(), "classify must not create state"


def test_a_line_the_proxy_would_refuse_is_a_bad_line(tmp_path: Path) -> None:
    """Messages are checked as the proxy checks a request: what it answers with a 400 is a
    bad line here, not a classification."""
    refused = [
        ({"messages": [{"role": "user", "content": 5}]}, "'messages[0].content'"),
        ({"messages": [{}]}, "'messages[0].role'"),
        ({"messages": [{"role": "user"}]}, "'messages[0].content'"),
        ({"messages": []}, "empty"),
        ({"prompt": "  "}, "'prompt' is empty"),
    ]
    text = "".join(json.dumps({"id": n, **item}) + "\n" for n, (item, _) in enumerate(refused))
    result = tokenwise(["classify", "--jsonl", "-"], tmp_path, text)
    assert result.returncode == 2, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    for n, (row, (_, words)) in enumerate(zip(rows, refused, strict=True), start=1):
        assert row["line"] == n and words in row["error"], row


def test_a_lines_own_reasoning_ask_is_decided_as_the_proxy_decides_it(tmp_path: Path) -> None:
    """A line carries what the proxy reads besides the messages: a client that asks for
    reasoning itself goes to a model that reasons, at its own effort, as through `auto`."""
    ask = [{"role": "user", "content": "hi"}]
    lines = [
        {"id": "plain", "messages": ask},
        {"id": "asks", "messages": ask, "reasoning_effort": "high"},
        {"id": "bad", "prompt": "hi", "reasoning_effort": "bogus"},
    ]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    result = tokenwise(["classify", "--jsonl", "-"], tmp_path, text)
    plain, asks, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert (plain["model"], plain["effort"]) == ("sim-small", "none")
    assert (asks["model"], asks["effort"]) == ("sim-mini-reasoner", "high")
    assert bad["line"] == 3 and "reasoning_effort" in bad["error"]


def test_jsonl_clean_input_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "prompt": "Translate 'good morning' to French."}) + "\n")
    result = tokenwise(["classify", "--jsonl", str(path), "--policy", "economy"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == 1


def test_single_prompt_prints_the_decision_and_features(tmp_path: Path) -> None:
    result = tokenwise(["classify", "Write a haiku about autumn."], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "decision" in result.stdout and "features" in result.stdout


def test_unknown_policy_is_an_error(tmp_path: Path) -> None:
    result = tokenwise(["classify", "hi", "--policy", "lavish"], tmp_path)
    assert result.returncode == 2 and "unknown policy 'lavish'" in result.stderr


def test_a_missing_file_or_an_empty_text_is_a_usage_error(tmp_path: Path) -> None:
    missing = tokenwise(["classify", "--jsonl", str(tmp_path / "nope.jsonl")], tmp_path)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "nope.jsonl" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = tokenwise(["classify", "   "], tmp_path)
    assert empty.returncode == 2 and "non-empty text" in empty.stderr


def test_a_reader_that_leaves_early_ends_the_output_quietly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "classify", "--jsonl", "-"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # as `| head` does once it has its lines
    _, err = proc.communicate(b'{"id": 1, "prompt": "hi"}\n' * 5000, timeout=60)
    assert proc.returncode == 141
    assert b"Traceback" not in err


def test_out_of_range_ports_and_worker_counts_are_usage_errors(tmp_path: Path) -> None:
    for args, words in (
        (["serve", "--workers", "0"], "--workers: 0 is out of range: use 1 to 256"),
        (["serve", "--port", "70000"], "--port: 70000 is out of range: use 1 to 65535"),
        (["sim", "--port", "http"], "--port: 'http' is not an integer"),
        (["demo", "--repeat", "0"], "--repeat: 0 is out of range"),
    ):
        result = tokenwise(args, tmp_path)
        assert result.returncode == 2 and words in result.stderr, (args, result.stderr)
