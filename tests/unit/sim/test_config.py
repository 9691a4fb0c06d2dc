"""The simulator's YAML config: strict keys, errors that name the file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.sim.catalog import default_catalog
from router.sim.config import load_sim_config


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "sim.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_none_is_the_default_catalog() -> None:
    config = load_sim_config(None)
    assert config.models == default_catalog() and config.seed == 0


def test_overrides_and_new_models(tmp_path: Path) -> None:
    config = load_sim_config(
        write(
            tmp_path,
            """
seed: 42
models:
  sim-small: {ttft_ms: 1}
  sim-flaky:
    base: sim-large-reasoner
    efforts: [low, high]
    fault: {status: 503, fail_first: 1}
    profiles:
      math: {reasoning_mean: 900}
""",
        )
    )
    models = {m.name: m for m in config.models}
    assert config.seed == 42 and len(models) == 8
    assert models["sim-small"].ttft_ms == 1
    assert models["sim-small"].inter_chunk_ms == default_catalog()[0].inter_chunk_ms
    flaky = models["sim-flaky"]
    assert flaky.dialect == "reasoning_field" and flaky.efforts == ("low", "high")
    assert flaky.default_effort == "high"
    assert (flaky.fault.status, flaky.fault.fail_first) == (503, 1)
    assert flaky.profiles.math.reasoning_mean == 900
    assert flaky.profiles.math.answer_mean == models["sim-large-reasoner"].profiles.math.answer_mean


def test_only_listed_models(tmp_path: Path) -> None:
    config = load_sim_config(
        write(
            tmp_path, "include_default_catalog: false\nmodels:\n  sim-one:\n    base: sim-think\n"
        )
    )
    assert [m.name for m in config.models] == ["sim-one"]
    assert config.models[0].dialect == "think_tags"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models:\n  sim-x:\n    ttft_msx: 3\n", "models.sim-x.ttft_msx: unknown key"),
        ("seeds: 1\n", "seeds: unknown key"),
        ("models:\n  sim-x:\n    fault: {stauts: 500}\n", "models.sim-x.fault.stauts: unknown key"),
        (
            "models:\n  sim-x:\n    profiles: {math: {mean: 3}}\n",
            "models.sim-x.profiles.math.mean: unknown key",
        ),
        ("models:\n  sim-x:\n    ttft_ms: fast\n", "models.sim-x.ttft_ms: expected an integer"),
        ("models:\n  sim-x:\n    base: gpt-9\n", "models.sim-x.base: no model named gpt-9"),
        ("models:\n  sim-x:\n    dialect: think_tags\n", "models.sim-x.reasoning:"),
        ("models:\n  sim-x:\n    efforts: [turbo]\n", "models.sim-x.efforts[0]: must be one of"),
        ("models:\n  sim-x:\n    fault: {status: 200}\n", "models.sim-x.fault.status: must be >="),
        ("include_default_catalog: false\n", "models: no models"),
        ("- just\n- a list\n", "(document): expected a mapping"),
        ("models: [\n", "not valid YAML"),
        ("seed: 1\nseed: 2\n", "line 2: the key 'seed' is given twice (first on line 1)"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as caught:
        load_sim_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_or_non_utf8_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope.yaml: cannot read the simulator config"):
        load_sim_config(str(tmp_path / "nope.yaml"))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"seed: 1\n# caf\xe9\n")
    with pytest.raises(ValueError, match=r"latin.yaml: not UTF-8 text"):
        load_sim_config(str(latin))


def test_the_sim_command_says_what_is_wrong_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from router.cli import main

    bad = write(tmp_path, "seeds: 1\n")
    assert main(["sim", "--config", bad, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"tokenwise sim: configuration error: {bad}: seeds: unknown key"
