"""The embedded catalog: the names others rely on, and figures that match the study's data."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from router.sim.catalog import EFFORT_SCALE, SimModel, TokenProfile, default_catalog
from router.sim.fields import FieldError

# catalog name -> (study model, divisor applied to reasoning, whether reasoning is kept)
SOURCES = {
    "sim-small": ("o4-mini-high-long", 1.0, False),
    "sim-mini-reasoner": ("qwen3-30b-a3b-think", 1.0, True),
    "sim-large-reasoner": ("deepseek-r1-0528", 1.0, True),
    "sim-think": ("qwen3-235b-a22b-think", 1.0, True),
    "sim-harmony": ("gpt-oss-120b", EFFORT_SCALE["high"], True),
    "sim-plain-usage": ("llama-3.3-nemotron-super-49b-v1", 1.0, False),
    "sim-effort-deaf": ("gpt-oss-20b", EFFORT_SCALE["high"], True),
}


def catalog() -> dict[str, SimModel]:
    return {model.name: model for model in default_catalog()}


def test_names_and_dialects() -> None:
    models = catalog()
    assert list(models) == list(SOURCES)
    assert {name: m.dialect for name, m in models.items()} == {
        "sim-small": "plain",
        "sim-mini-reasoner": "reasoning_content",
        "sim-large-reasoner": "reasoning_field",
        "sim-think": "think_tags",
        "sim-harmony": "harmony_leak",
        "sim-plain-usage": "usage_no_details",
        "sim-effort-deaf": "reasoning_content",
    }
    for model in models.values():
        assert model.efforts == (("low", "medium", "high") if model.reasoning else ())
        assert model.ignores_effort == (model.name == "sim-effort-deaf")
        assert model.imitates and model.description
        assert 0 < model.ttft_ms <= 40 and model.inter_chunk_ms <= 5


def _study_profile(
    data: Path, study_model: str, category: str, divisor: float, thinks: bool
) -> TokenProfile:
    with (data / "prompts.jsonl").open(encoding="utf-8") as handle:
        prompts = [json.loads(line) for line in handle]
    wanted = {p["id"] for p in prompts if p["in_study"] and p["category"] == category}
    with (data / "results_runs.csv").open(encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["model"] == study_model and r["prompt_id"] in wanted and r["completion_tokens"]
        ]
    thought = [float(r["reasoning_tokens_est"]) for r in rows]
    answer = [float(r["completion_tokens"]) - t for r, t in zip(rows, thought, strict=True)]
    if not thinks:
        return TokenProfile(round(statistics.mean(answer)), round(statistics.pstdev(answer)))
    return TokenProfile(
        round(statistics.mean(answer)),
        round(statistics.pstdev(answer)),
        round(statistics.mean(thought) / divisor),
        round(statistics.pstdev(thought) / divisor),
    )


@pytest.mark.parametrize("name", list(SOURCES))
def test_profiles_come_from_the_token_economy_data(name: str, public_data: Path) -> None:
    study_model, divisor, thinks = SOURCES[name]
    profiles = catalog()[name].profiles
    for ours, theirs in (("knowledge", "knowledge"), ("math", "math"), ("logic", "logic_puzzle")):
        expected = _study_profile(
            public_data / "token-economy", study_model, theirs, divisor, thinks
        )
        got = profiles.for_category(ours)
        assert abs(got.answer_mean - expected.answer_mean) <= 1, (ours, got, expected)
        assert abs(got.answer_spread - expected.answer_spread) <= 1
        assert abs(got.reasoning_mean - expected.reasoning_mean) <= 1
        assert abs(got.reasoning_spread - expected.reasoning_spread) <= 1
    assert profiles.other == profiles.knowledge


def test_inconsistent_model_is_refused() -> None:
    small = catalog()["sim-small"]
    with pytest.raises(FieldError) as caught:
        SimModel(**{**small.__dict__, "dialect": "think_tags"})
    assert caught.value.path == "reasoning"
    with pytest.raises(FieldError) as caught:
        SimModel(**{**small.__dict__, "dialect": "smoke-signals"})
    assert caught.value.path == "dialect"
