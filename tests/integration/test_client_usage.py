"""A host that counts reasoning outside `completion_tokens` (Gemini's OpenAI endpoint, xAI:
`provider.usage: gemini_openai`) is read by the SDK in OpenAI's convention, streamed or not:
reasoning inside `completion_tokens` and named in `reasoning_tokens`, total = prompt +
completion, what the proxy billed. The simulator counts that way on `reasoning_apart_usage`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from tests.integration.configs import write_config

KEY = "tw-client-usage-key"
APART = {"sim": {"fault": {"reasoning_apart_usage": True}}}


@pytest.fixture
def client(sim: ServerThread, tmp_path: Path) -> Iterator[openai.OpenAI]:
    home = tmp_path / "home"
    config = write_config(
        home,
        f"""providers:
  thoughts-apart: {{base_url: "http://127.0.0.1:{sim.port}/v1", usage: gemini_openai}}
models:
  sim-mini-reasoner: {{provider: thoughts-apart, reasoning: {{efforts: [low, medium, high]}}}}
""",
    )
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": KEY}
    with serving(create_app(load_settings(str(config), env=env))) as server:
        yield openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key=KEY)


def test_a_json_answer_counts_reasoning_inside_completion(client: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "Prove that there are infinitely many primes."}]
    raw = client.chat.completions.with_raw_response.create(
        model="sim-mini-reasoner", messages=ask, reasoning_effort="high", extra_body=APART
    )
    usage = raw.parse().usage
    assert usage is not None and usage.completion_tokens_details is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning is not None and reasoning > 0
    assert usage.completion_tokens > reasoning  # the visible answer is what is left
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    detail = dict(part.split("=") for part in raw.headers["x-tokenwise-cost-detail"].split("; "))
    assert float(detail["reasoning"]) > 0  # billed as reasoning, as the client now reads it


def test_a_streams_usage_chunk_counts_reasoning_inside_completion(client: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "Prove that there are infinitely many primes."}]
    stream = client.chat.completions.create(
        model="sim-mini-reasoner",
        messages=ask,
        reasoning_effort="high",
        stream=True,
        stream_options={"include_usage": True},
        extra_body=APART,
    )
    usages = [chunk.usage for chunk in stream if chunk.usage is not None]
    assert len(usages) == 1
    usage = usages[0]
    assert usage.completion_tokens_details is not None
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert reasoning is not None and 0 < reasoning < usage.completion_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
