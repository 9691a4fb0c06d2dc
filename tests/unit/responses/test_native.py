"""The body for a native Responses upstream, and which APIs a configured model speaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from router.config.load import ConfigError, load_settings
from router.providers.base import ParamReport
from router.reasoning.effort import EffortChoice
from router.responses.native import native_body

CONFIG = """
providers:
  openai: {base_url: "https://api.openai.com/v1", api_key_env: OPENAI_API_KEY, dialect: openai}
  local: {base_url: "http://127.0.0.1:9/v1", dialect: vllm}
models:
  o4-mini: {provider: openai, reasoning: {efforts: [low, medium, high]}}
  gpt-4.1-mini: {provider: openai, apis: [chat]}
  qwen3-32b: {provider: local, price: o4-mini}
  base-model: {provider: local, price: o4-mini, apis: [chat, completions]}
"""


def settings(tmp_path: Path, text: str = CONFIG) -> Any:
    path = tmp_path / "tokenwise.yaml"
    path.write_text(text, encoding="utf-8")
    env = {"OPENAI_API_KEY": "sk-test", "TOKENWISE_HOME": str(tmp_path / "home")}
    return load_settings(str(path), env=env, cwd=tmp_path, serving=False)


def test_apis_default_by_dialect_and_a_model_overrides(tmp_path: Path) -> None:
    models = settings(tmp_path).models
    assert models["o4-mini"].apis == ("chat", "responses", "completions")
    assert models["gpt-4.1-mini"].apis == ("chat",)
    assert models["qwen3-32b"].apis == ("chat",)
    assert models["base-model"].apis == ("chat", "completions")


def test_apis_must_include_chat(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.qwen3-32b\.apis: must include chat"):
        settings(
            tmp_path,
            CONFIG.replace(
                "qwen3-32b: {provider: local,", "qwen3-32b: {provider: local, apis: [responses],"
            ),
        )


def test_only_model_effort_and_output_cap_change(tmp_path: Path) -> None:
    model = settings(tmp_path).models["o4-mini"]
    body = {
        "model": "o4-mini",
        "input": [
            {"type": "reasoning", "id": "rs_1", "encrypted_content": "opaque", "summary": []}
        ],
        "reasoning": {"effort": "minimal", "summary": "auto"},
        "tools": [{"type": "web_search"}],
        "vendor_field": {"x": 1},
    }
    report = ParamReport(provider="openai", effort=EffortChoice(requested="minimal", sent="low"))
    out = native_body(body, {"max_completion_tokens": 300}, report, model)
    assert out == {
        **body,
        "reasoning": {"effort": "low", "summary": "auto"},
        "max_output_tokens": 300,
    }
    assert body["reasoning"] == {"effort": "minimal", "summary": "auto"}  # not mutated


def test_a_model_that_does_not_reason_gets_no_effort(tmp_path: Path) -> None:
    model = settings(tmp_path).models["gpt-4.1-mini"]
    out = native_body(
        {"model": "gpt-4.1-mini", "input": "Hi", "reasoning": {"effort": "high"}},
        {},
        ParamReport(provider="openai"),
        model,
    )
    assert out == {"model": "gpt-4.1-mini", "input": "Hi"}
