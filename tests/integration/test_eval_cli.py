"""`tokenwise eval` end to end on a small slice, with a classifier the training script builds."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def tokenwise(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def small_classifier(tmp_path_factory: pytest.TempPathFactory, public_data: Path) -> Path:
    """Hand-written prompts plus 20 items of each benchmark except GSM8K and token-economy."""
    out = tmp_path_factory.mktemp("classifier") / "small.json"
    result = tokenwise(
        [
            "train",
            "--data-dir",
            str(public_data),
            "--limit",
            "20",
            "--exclude",
            "routellm-gsm8k",
            "--exclude",
            "token-economy",
            "--out",
            str(out),
        ],
        out.parent,
    )
    assert result.returncode == 0, result.stderr
    return out


def test_eval_reports_held_out_benchmarks_and_refuses_seen_ones(
    small_classifier: Path, tmp_path: Path, public_data: Path
) -> None:
    out = tmp_path / "eval"
    args = ["eval", "--classifier", str(small_classifier), "--data-dir", str(public_data)]
    result = tokenwise([*args, "--limit", "300", "--out", str(out), "--quiet"], tmp_path)

    # MMLU and RouterBench items were in this classifier's training data: refused, exit 2.
    assert result.returncode == 2, result.stderr
    assert "routellm-mmlu: refused" in result.stderr
    assert "routerbench: refused" in result.stderr
    results = json.loads((out / "results.json").read_text())
    assert sorted(results) == ["routellm-gsm8k", "token-economy"]

    gsm8k = results["routellm-gsm8k"]
    assert gsm8k["items"] == 300 - len(gsm8k["left_out_as_training_prompts"])
    assert gsm8k["random"] == {
        "apgr": 0.5,
        "cpt50": 0.5,
        "cpt80": 0.8,
        "auc": gsm8k["random"]["auc"],
    }
    assert 0.0 < gsm8k["router"]["apgr"] < 1.5
    shares = [p["strong_share"] for p in gsm8k["curve"]]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    assert "| router: difficulty sweep |" in result.stdout

    economy = results["token-economy"]
    assert len(economy["decisions"]) == 19
    assert economy["reference"] == "deepseek-r1-0528"
    assert economy["always_reference"]["accuracy"] == 1.0
    spent = sum(float(d["cost_usd"]) for d in economy["decisions"])
    assert spent == pytest.approx(float(economy["routed"]["cost_usd"]), abs=1e-4)
    assert all(d["priors_from"].startswith("study ") for d in economy["decisions"])
    strict = economy["strict_leave_one_prompt_out"]
    assert [d["prompt"] for d in strict["decisions"]] == [d["prompt"] for d in economy["decisions"]]
    assert all(" others" in d["priors_from"] for d in strict["decisions"])
    strict_spent = sum(float(d["cost_usd"]) for d in strict["decisions"])
    assert strict_spent == pytest.approx(float(strict["routed"]["cost_usd"]), abs=1e-4)
    assert "### Decision per prompt" in (out / "report.md").read_text()

    has_plotting = importlib.util.find_spec("matplotlib") is not None
    assert (out / "routellm-gsm8k.png").is_file() == has_plotting
    assert (out / "token-economy.png").is_file() == has_plotting


def test_eval_rejects_an_unknown_policy(tmp_path: Path) -> None:
    result = tokenwise(["eval", "--policy", "nonesuch", "--out", str(tmp_path)], tmp_path)
    assert result.returncode == 2
    assert "unknown policy 'nonesuch'" in result.stderr


def test_eval_names_the_missing_data(tmp_path: Path) -> None:
    result = tokenwise(
        [
            "eval",
            "--loo",
            "--benchmark",
            "routellm-gsm8k",
            "--data-dir",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "out"),
        ],
        tmp_path,
    )
    assert result.returncode == 2
    assert f"cannot read {tmp_path / 'none'}" in result.stderr and "--data-dir" in result.stderr
    assert "Traceback" not in result.stderr
