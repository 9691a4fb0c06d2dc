"""A template that opens `<think>` in the prompt: the answer starts inside the block.

The simulator's `think_opened` dialect answers as DeepSeek-R1-0528 or Qwen3's Thinking models do
when served without a reasoning parser: reasoning, then `</think>`, then the answer. Declared
with `think_opened_by_template`, the official SDK gets the reasoning in its fields and a clean
answer, streamed or not; with effort `none` (thinking off) the answer is all content; undeclared,
the output stays in `content` as it came.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ReasoningEffort

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.sim.app import create_sim_app
from router.sim.config import load_sim_config
from tests.integration.conftest import DEV_KEY, url
from tests.integration.reading import read_answer

ASK: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "How many weekdays are there in a leap year? Think it over."}
]
SIM = """
models:
  sim-think-opened:
    base: sim-think
    dialect: think_opened
    ttft_ms: 0
    inter_chunk_ms: 0
    profiles:
      knowledge: {reasoning_mean: 120, reasoning_spread: 10}
      other: {reasoning_mean: 120, reasoning_spread: 10}
"""
REASONING = "{efforts: [low, medium, high], can_disable: true, output_field: think_tags%s}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    home = tmp_path_factory.mktemp("think-opened")
    sim_config = home / "sim.yaml"
    sim_config.write_text(SIM, encoding="utf-8")
    with serving(create_sim_app(load_sim_config(str(sim_config)))) as sim:
        settings = load_settings(str(_config(home, sim)), env=_env(home))
        with serving(create_app(settings)) as proxy:
            yield openai.OpenAI(base_url=url(proxy), api_key=DEV_KEY, max_retries=0)


def _env(home: Path) -> dict[str, str]:
    return {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": DEV_KEY}


def _config(home: Path, sim: ServerThread) -> Path:
    declared = REASONING % ", think_opened_by_template: true"
    config = home / "tokenwise.yaml"
    config.write_text(
        f"""
providers:
  sim: {{base_url: "http://127.0.0.1:{sim.port}/v1", dialect: vllm}}
models:
  declared: {{provider: sim, upstream_id: sim-think-opened, price: sim-think,
              reasoning: {declared}}}
  undeclared: {{provider: sim, upstream_id: sim-think-opened, price: sim-think,
                reasoning: {REASONING % ""}}}
routing:
  default_model: declared
""",
        encoding="utf-8",
    )
    return config


def answer(
    client: openai.OpenAI, model: str, stream: bool, effort: ReasoningEffort = "high"
) -> dict[str, str]:
    return read_answer(client, model, ASK, stream, effort, seed=3)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_declared_reasoning_before_the_closing_tag_is_moved_out(
    client: openai.OpenAI, stream: bool
) -> None:
    got = answer(client, "declared", stream)
    assert got["reasoning_content"].strip() and got["content"].strip()
    assert got["reasoning"] == got["reasoning_content"]
    for text in got.values():
        assert "</think>" not in text and "<think>" not in text
    assert got == answer(client, "declared", not stream)


def test_the_raw_output_had_only_the_closing_tag(client: openai.OpenAI) -> None:
    """The control: undeclared, the same upstream's output is left as it came."""
    got = answer(client, "undeclared", False)
    declared = answer(client, "declared", False)
    assert got["reasoning_content"] == ""
    assert "<think>" not in got["content"]
    before, tag, after = got["content"].partition("</think>")
    assert tag
    assert before.strip() == declared["reasoning_content"].strip()
    assert after.strip() == declared["content"].strip()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_thinking_off_leaves_the_whole_answer_in_content(
    client: openai.OpenAI, stream: bool
) -> None:
    got = answer(client, "declared", stream, effort="none")
    assert got["content"].strip()
    assert got["reasoning_content"] == got["reasoning"] == ""
    assert got == answer(client, "undeclared", stream, effort="none")
