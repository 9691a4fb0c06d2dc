"""Reasoning end to end: the official OpenAI SDK, the proxy, the simulator's dialects.

The same client code, unchanged, gets reasoning back in `reasoning_content` and `reasoning`
from every simulated dialect (its own field, the other field, inline `<think>`, leaked Harmony),
JSON and streamed; efforts round and are reported; garbage is a 400 listing the ladder; hidden
reasoning is still metered; drops are reported (and refused when strict) and counted; and
`tokenwise probe` flags exactly the two misbehaving simulated hosts.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ReasoningEffort

from router.app import create_app
from router.cli import main
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.probe import print_table, probe_models
from tests.integration.conftest import DEV_KEY, url
from tests.integration.reading import read_answer

ASK: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What is the capital of Australia? Think it over."}
]
REASONING_MODELS = (
    "sim-mini-reasoner",
    "sim-large-reasoner",
    "sim-think",
    "sim-harmony",
    "sim-effort-deaf",
)
MARKUP = ("<think>", "</think>", "<|channel|>", "<|message|>", "<|end|>", "assistantfinal")
LADDER = "none, minimal, low, medium, high, xhigh, max"


def answer(
    client: openai.OpenAI, model: str, stream: bool, effort: ReasoningEffort = None, seed: int = 0
) -> dict[str, str]:
    """What any client reads: the content and both reasoning fields (JSON or streamed)."""
    return read_answer(client, model, ASK, stream, effort, seed)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("model", REASONING_MODELS)
def test_same_fields_from_every_dialect(client: openai.OpenAI, model: str, stream: bool) -> None:
    got = answer(client, model, stream, effort="high")
    assert got["content"].strip()
    assert got["reasoning_content"].strip()
    assert got["reasoning"] == got["reasoning_content"]
    for marker in MARKUP:
        assert marker not in got["content"]
        assert marker not in got["reasoning"]


@pytest.mark.parametrize("model", REASONING_MODELS)
def test_streaming_equals_json(client: openai.OpenAI, model: str) -> None:
    assert answer(client, model, False, seed=5) == answer(client, model, True, seed=5)


def sim_log(proxy: ServerThread) -> list[dict[str, Any]]:
    app: Any = proxy.server.config.app
    services = app.state.services
    base = str(services.targets["sim-small"].base_url).removesuffix("/v1")
    entries: list[dict[str, Any]] = httpx.get(f"{base}/sim/log?limit=1").json()["data"]
    return entries


ROUNDING: list[tuple[ReasoningEffort, str]] = [
    ("minimal", "low"),
    ("low", "low"),
    ("xhigh", "high"),
    ("max", "high"),
]


@pytest.mark.parametrize(("asked", "sent"), ROUNDING)
def test_efforts_round_and_are_reported(
    client: openai.OpenAI, proxy: ServerThread, asked: ReasoningEffort, sent: str
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="sim-mini-reasoner", messages=ASK, reasoning_effort=asked
    )
    assert raw.headers["x-tokenwise-effort"] == f"requested={asked}; sent={sent}"
    assert sim_log(proxy)[-1]["effort"] == sent
    metrics = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics").text
    assert f'requested="{asked}",sent="{sent}"' in metrics


def test_other_dialects_of_intent_arrive_as_an_effort(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Reasoning: low"},
        *ASK,
    ]
    raw = client.chat.completions.with_raw_response.create(
        model="sim-large-reasoner", messages=messages
    )
    assert raw.headers["x-tokenwise-effort"] == "requested=low; sent=low"
    raw = client.chat.completions.with_raw_response.create(
        model="sim-large-reasoner",
        messages=ASK,
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 20000}},
    )
    assert raw.headers["x-tokenwise-effort"] == "requested=high; sent=high"
    assert sim_log(proxy)[-1]["effort"] == "high"


def test_garbage_effort_is_a_400_listing_the_ladder(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="sim-mini-reasoner", messages=ASK, extra_body={"reasoning_effort": "turbo"}
        )
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "invalid_reasoning"
    assert error["param"] == "reasoning_effort"
    assert LADDER in error["message"]


def test_conflicting_controls_are_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="sim-mini-reasoner",
            messages=ASK,
            reasoning_effort="high",
            extra_body={"reasoning": {"effort": "low"}},
        )
    assert "reasoning.effort" in str(caught.value) and "conflicts" in str(caught.value)


def test_hidden_reasoning_is_still_metered(client: openai.OpenAI) -> None:
    hide = {"reasoning": {"exclude": True}, "sim": {"fault": {"no_usage": True}}}
    raw = client.chat.completions.with_raw_response.create(
        model="sim-think", messages=ASK, extra_body=hide
    )
    message = raw.parse().choices[0].message
    assert message.content and "<think>" not in message.content
    assert getattr(message, "reasoning_content", None) is None
    assert "reasoning=0." in raw.headers["x-tokenwise-cost-detail"]
    assert "reasoning=0.000000;" not in raw.headers["x-tokenwise-cost-detail"]
    stream = client.chat.completions.create(
        model="sim-think",
        messages=ASK,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=hide,
    )
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            assert getattr(choice.delta, "reasoning_content", None) is None
            assert getattr(choice.delta, "reasoning", None) is None
    assert usage is not None and usage.completion_tokens_details is not None
    assert (usage.completion_tokens_details.reasoning_tokens or 0) > 0


@pytest.fixture(scope="module")
def ollama_proxy(sim: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The simulator behind two more dialects: Ollama's, and OpenAI's with `strict: true`."""
    home = tmp_path_factory.mktemp("dialects")
    config = home / "tokenwise.yaml"
    base = f"http://127.0.0.1:{sim.port}/v1"
    config.write_text(
        f"""
providers:
  sim-ollama: {{base_url: "{base}", dialect: ollama}}
  sim-strict: {{base_url: "{base}", dialect: openai, strict: true}}
models:
  sim-mini-reasoner:
    provider: sim-ollama
    reasoning: {{efforts: [low, medium, high], can_disable: true, output_field: reasoning_content}}
  strict-reasoner:
    provider: sim-strict
    upstream_id: sim-mini-reasoner
    price: sim-mini-reasoner
    reasoning: {{efforts: [low, medium, high], output_field: reasoning_content}}
routing:
  roles: {{small: sim-mini-reasoner, reasoner: sim-mini-reasoner, large: strict-reasoner}}
""",
        encoding="utf-8",
    )
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": DEV_KEY}
    with serving(create_app(load_settings(str(config), env=env))) as server:
        yield url(server)


def test_drops_are_reported_and_counted(ollama_proxy: str) -> None:
    with openai.OpenAI(base_url=ollama_proxy, api_key=DEV_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="sim-mini-reasoner",
            messages=ASK,
            reasoning_effort="minimal",
            max_completion_tokens=4000,
            extra_body={"chat_template_kwargs": {"add_generation_prompt": True}},
        )
        assert raw.parse().choices[0].message.content
    assert raw.headers["x-tokenwise-params"] == "dropped=chat_template_kwargs"
    assert raw.headers["x-tokenwise-effort"] == "requested=minimal; sent=low"
    metrics = httpx.get(ollama_proxy.removesuffix("/v1") + "/metrics").text
    dropped = [line for line in metrics.splitlines() if "dropped_params_total{" in line]
    assert any('param="chat_template_kwargs"' in line and line.endswith(" 1.0") for line in dropped)


def test_strict_turns_a_drop_into_a_400(ollama_proxy: str) -> None:
    with openai.OpenAI(base_url=ollama_proxy, api_key=DEV_KEY, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="strict-reasoner", messages=ASK, temperature=0.2)
        error = caught.value.body
        assert isinstance(error, dict)
        assert (error["code"], error["param"]) == ("unsupported_parameter", "temperature")
        completion = client.chat.completions.create(model="strict-reasoner", messages=ASK)
        assert completion.choices[0].message.content


async def test_probe_flags_exactly_the_misbehaving_hosts(tmp_path: Path) -> None:
    env = {"TOKENWISE_HOME": str(tmp_path), "TOKENWISE_DEV_KEY": DEV_KEY}
    reports = await probe_models(load_settings(None, env=env, cwd=tmp_path))
    failing = {report.model: report.problems for report in reports}
    assert {name for name, problems in failing.items() if problems} == {
        "sim-effort-deaf",
        "sim-harmony",
    }
    assert failing["sim-effort-deaf"] == ["effort ignored"]
    assert failing["sim-harmony"] == ["Harmony leaks"]
    where = {report.model: report.samples["low"].where for report in reports}
    assert where["sim-think"] == "content (think tags)"
    assert where["sim-mini-reasoner"] == where["sim-large-reasoner"] == "field"
    assert all(report.streamed_usage for report in reports)
    table = io.StringIO()
    print_table(reports, table)
    assert "IGNORED" in table.getvalue() and "LEAKS" in table.getvalue()


def test_probe_command_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOKENWISE_HOME", str(tmp_path))
    monkeypatch.setenv("TOKENWISE_DEV_KEY", DEV_KEY)
    monkeypatch.delenv("TOKENWISE_CONFIG", raising=False)
    assert main(["probe"]) == 0
    assert main(["probe", "--fail-on-violation"]) == 1
    out = capsys.readouterr().out
    assert "failing: sim-harmony, sim-effort-deaf" in out
