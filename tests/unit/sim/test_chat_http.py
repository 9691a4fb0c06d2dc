"""The simulator over real HTTP with the official OpenAI SDK: dialects, usage, effort, shapes."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai.types.shared import ReasoningEffort

from tests.unit.sim.conftest import ask


def tokens(text: str) -> int:
    """Pieces of simulator text: each word, and each full stop, is one token."""
    return len(text.split()) + text.count(".")


def extra(obj: Any, name: str) -> Any:
    return (obj.model_extra or {}).get(name)


def test_models_are_labelled_simulated(client: openai.OpenAI, raw: httpx.Client) -> None:
    models = client.models.list().data
    names = {m.id for m in models}
    assert {
        "sim-small",
        "sim-mini-reasoner",
        "sim-large-reasoner",
        "sim-think",
        "sim-harmony",
        "sim-plain-usage",
        "sim-effort-deaf",
    } <= names
    assert {m.owned_by for m in models} == {"tokenwise-simulator"}
    response = raw.get("/models")
    assert response.headers["x-tokenwise-simulated"] == "true"
    assert response.headers["x-sim-request-id"].startswith("simreq-")
    assert raw.get("/models/sim-think").json()["id"] == "sim-think"


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("sim-mini-reasoner", "reasoning_content"),
        ("sim-large-reasoner", "reasoning"),
        ("sim-effort-deaf", "reasoning_content"),
    ],
)
def test_reasoning_in_its_field(client: openai.OpenAI, model: str, field: str) -> None:
    response = client.chat.completions.create(model=model, messages=ask())
    message = response.choices[0].message
    reasoning = extra(message, field)
    other = "reasoning" if field == "reasoning_content" else "reasoning_content"
    assert reasoning and extra(message, other) is None
    assert message.content and "<think>" not in message.content
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens == tokens(reasoning)
    assert response.usage.completion_tokens == tokens(reasoning) + tokens(message.content)


def test_think_tags_inline(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="sim-think", messages=ask())
    content = response.choices[0].message.content or ""
    assert content.startswith("<think>\n")
    thought, answer = content.removeprefix("<think>\n").split("\n</think>\n\n")
    assert thought and answer
    assert extra(response.choices[0].message, "reasoning_content") is None
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens == tokens(thought)


def test_harmony_markup_leaks_into_content(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="sim-harmony", messages=ask())
    content = response.choices[0].message.content or ""
    head = "<|channel|>analysis<|message|>"
    middle = "<|end|><|start|>assistant<|channel|>final<|message|>"
    assert content.startswith(head) and middle in content
    analysis, final = content.removeprefix(head).split(middle)
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens == tokens(analysis)
    assert response.usage.completion_tokens == tokens(analysis) + tokens(final) + 9


def test_plain_models(client: openai.OpenAI) -> None:
    small = client.chat.completions.create(model="sim-small", messages=ask())
    assert small.usage is not None and small.usage.completion_tokens_details is not None
    assert small.usage.completion_tokens_details.reasoning_tokens == 0
    assert small.usage.prompt_tokens_details is not None
    ollama = client.chat.completions.create(model="sim-plain-usage", messages=ask())
    usage = ollama.usage
    assert usage is not None
    assert usage.completion_tokens_details is None and usage.prompt_tokens_details is None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.completion_tokens == tokens(ollama.choices[0].message.content or "")


@pytest.mark.parametrize(
    "model", ["sim-small", "sim-mini-reasoner", "sim-large-reasoner", "sim-think", "sim-harmony"]
)
def test_stream_assembles_to_the_same_answer(client: openai.OpenAI, model: str) -> None:
    whole = client.chat.completions.create(model=model, messages=ask("Tell me a story"))
    stream = client.chat.completions.create(
        model=model,
        messages=ask("Tell me a story"),
        stream=True,
        stream_options={"include_usage": True},
    )
    parts: dict[str, list[str]] = {"content": [], "reasoning": [], "reasoning_content": []}
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    for chunk in chunks[:-1]:
        assert chunk.usage is None and chunk.id == whole.id
        delta = chunk.choices[0].delta
        parts["content"].append(delta.content or "")
        for name in ("reasoning", "reasoning_content"):
            parts[name].append(extra(delta, name) or "")
    assert chunks[-2].choices[0].finish_reason == whole.choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    message = whole.choices[0].message
    assert "".join(parts["content"]) == message.content
    for name in ("reasoning", "reasoning_content"):
        assert ("".join(parts[name]) or None) == extra(message, name)


def test_effort_scales_reasoning(client: openai.OpenAI, raw: httpx.Client) -> None:
    def reasoning(model: str, effort: ReasoningEffort) -> int:
        response = client.chat.completions.create(
            model=model, messages=ask(), reasoning_effort=effort
        )
        assert response.usage is not None and response.usage.completion_tokens_details is not None
        return response.usage.completion_tokens_details.reasoning_tokens or 0

    for model in ("sim-mini-reasoner", "sim-large-reasoner", "sim-think", "sim-harmony"):
        low, medium, high = (reasoning(model, e) for e in ("low", "medium", "high"))
        assert 0 < low < medium < high, model
    deaf = [reasoning("sim-effort-deaf", e) for e in ("low", "medium", "high")]
    assert deaf[0] == deaf[1] == deaf[2] > 0
    bodies = {
        raw.post(
            "/chat/completions",
            json={"model": "sim-effort-deaf", "messages": ask(), "reasoning_effort": effort},
        ).content
        for effort in ("low", "high", "xhigh")
    }
    assert len(bodies) == 1


def test_effort_dialects_and_switching_off(client: openai.OpenAI) -> None:
    nested = client.chat.completions.create(
        model="sim-large-reasoner", messages=ask(), extra_body={"reasoning": {"effort": "high"}}
    )
    flat = client.chat.completions.create(
        model="sim-large-reasoner", messages=ask(), reasoning_effort="high"
    )
    assert nested.usage == flat.usage
    off = client.chat.completions.create(
        model="sim-think",
        messages=ask(),
        extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )
    assert "<think>" not in (off.choices[0].message.content or "")
    assert off.usage is not None and off.usage.completion_tokens_details is not None
    assert off.usage.completion_tokens_details.reasoning_tokens == 0
    none = client.chat.completions.create(
        model="sim-mini-reasoner", messages=ask(), reasoning_effort="none"
    )
    assert extra(none.choices[0].message, "reasoning_content") is None


@pytest.mark.parametrize(
    ("model", "effort", "code"),
    [
        ("sim-harmony", "none", "unsupported_value"),
        ("sim-mini-reasoner", "minimal", "unsupported_value"),
        ("sim-large-reasoner", "xhigh", "unsupported_value"),
        ("sim-small", "low", "unsupported_parameter"),
    ],
)
def test_effort_the_model_lacks_is_refused(
    client: openai.OpenAI, model: str, effort: ReasoningEffort, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=ask(), reasoning_effort=effort)
    assert caught.value.code == code
    assert caught.value.param == "reasoning_effort"


def test_same_request_same_bytes(raw: httpx.Client) -> None:
    body = {"model": "sim-large-reasoner", "messages": ask("Solve 2+2"), "n": 2}
    first, second = (raw.post("/chat/completions", json=body) for _ in range(2))
    assert first.content == second.content
    assert first.json()["id"].startswith("chatcmpl-")
    assert first.json()["system_fingerprint"].startswith("fp_sim_")
    other = raw.post("/chat/completions", json={**body, "messages": ask("Solve 3+3")})
    assert other.json()["id"] != first.json()["id"]


def test_n_choices(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="sim-small", messages=ask(), n=3)
    assert [c.index for c in response.choices] == [0, 1, 2]
    contents = [c.message.content or "" for c in response.choices]
    assert len(set(contents)) == 3
    assert response.usage is not None
    assert response.usage.completion_tokens == sum(tokens(c) for c in contents)
    stream = client.chat.completions.create(model="sim-small", messages=ask(), n=3, stream=True)
    streamed = ["", "", ""]
    for chunk in stream:
        for choice in chunk.choices:
            streamed[choice.index] += choice.delta.content or ""
    assert streamed == contents


def test_logprobs(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="sim-small", messages=ask(), logprobs=True, top_logprobs=3
    )
    choice = response.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content
    entries = choice.logprobs.content
    assert "".join(e.token for e in entries) == choice.message.content
    for entry in entries:
        assert entry.logprob <= 0 and entry.bytes == list(entry.token.encode())
        assert len(entry.top_logprobs) == 3 and entry.top_logprobs[0].token == entry.token
        assert sorted((t.logprob for t in entry.top_logprobs), reverse=True) == [
            t.logprob for t in entry.top_logprobs
        ]
    plain = client.chat.completions.create(model="sim-small", messages=ask())
    assert plain.choices[0].logprobs is None


def test_max_tokens_cuts_with_length(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="sim-mini-reasoner", messages=ask(), max_completion_tokens=12
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None and response.usage.completion_tokens == 12
    assert response.choices[0].message.content == ""
    forced = client.chat.completions.create(
        model="sim-small", messages=ask(), extra_body={"sim": {"completion_tokens": 40}}
    )
    assert forced.usage is not None and forced.usage.completion_tokens == 40


def test_category_shapes_the_profile(client: openai.OpenAI, sim_log: Any) -> None:
    def reasoning(category: str) -> int:
        response = client.chat.completions.create(
            model="sim-harmony", messages=ask(), extra_body={"sim": {"category": category}}
        )
        assert response.usage is not None and response.usage.completion_tokens_details is not None
        return response.usage.completion_tokens_details.reasoning_tokens or 0

    assert reasoning("math") > reasoning("knowledge")
    client.chat.completions.create(model="sim-small", messages=ask("Calculate 17 * 23"))
    assert sim_log(1)[0]["category"] == "math"


def test_long_conversation_is_partly_cached(client: openai.OpenAI) -> None:
    history = [
        {"role": "user", "content": "word " * 3000},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and now?"},
    ]
    response = client.chat.completions.create(model="sim-small", messages=history)  # type: ignore[arg-type]
    assert response.usage is not None and response.usage.prompt_tokens_details is not None
    cached = response.usage.prompt_tokens_details.cached_tokens or 0
    assert cached >= 1024 and cached % 128 == 0 and cached < response.usage.prompt_tokens
    forced = client.chat.completions.create(
        model="sim-small", messages=ask(), extra_body={"sim": {"cached_tokens": 5}}
    )
    assert forced.usage is not None and forced.usage.prompt_tokens_details is not None
    assert forced.usage.prompt_tokens_details.cached_tokens == 5


def test_errors_are_openai_shaped(client: openai.OpenAI, raw: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-nope", messages=ask())
    assert missing.value.code == "model_not_found"
    broken = raw.post("/chat/completions", content=b'{"model": "sim-small", "mess')
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    assert broken.headers["x-tokenwise-simulated"] == "true"
    typo = raw.post(
        "/chat/completions",
        json={"model": "sim-small", "messages": ask(), "sim": {"ttft": 3}},
    )
    assert typo.status_code == 400 and typo.json()["error"]["param"] == "sim.ttft"
    nowhere = raw.get("/nowhere")
    assert nowhere.status_code == 404 and "error" in nowhere.json()


def test_log_records_what_was_seen(client: openai.OpenAI, sim_log: Any) -> None:
    response = client.chat.completions.with_raw_response.create(
        model="sim-think", messages=ask(), reasoning_effort="high"
    )
    request_id = response.headers["x-sim-request-id"]
    entry = next(e for e in sim_log() if e["request_id"] == request_id)
    assert entry == {
        "request_id": request_id,
        "model": "sim-think",
        "stream": False,
        "effort": "high",
        "category": "knowledge",
        "fault": [],
        "status": 200,
    }


def test_embeddings(client: openai.OpenAI, raw: httpx.Client) -> None:
    first = client.embeddings.create(model="sim-small", input=["alpha", "beta", "alpha"])
    vectors = [d.embedding for d in first.data]
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert vectors[0] == pytest.approx(vectors[2]) and vectors[0] != pytest.approx(vectors[1])
    assert sum(x * x for x in vectors[1]) == pytest.approx(1.0, rel=1e-5)
    assert first.usage.prompt_tokens == first.usage.total_tokens > 0
    floats = raw.post(
        "/embeddings",
        json={"model": "sim-small", "input": "alpha", "dimensions": 8, "encoding_format": "float"},
    ).json()
    assert len(floats["data"][0]["embedding"]) == 8 and floats["object"] == "list"


def test_log_keeps_the_proxys_request_id_and_reads_from_an_id(
    client: openai.OpenAI, raw: httpx.Client
) -> None:
    first = client.chat.completions.with_raw_response.create(
        model="sim-small", messages=ask(), extra_headers={"x-tokenwise-request-id": "req_1"}
    )
    second = client.chat.completions.with_raw_response.create(model="sim-small", messages=ask())
    url = str(raw.base_url).removesuffix("/v1/") + "/sim/log"
    after = raw.get(url, params={"after": first.headers["x-sim-request-id"]}).json()["data"]
    assert [e["request_id"] for e in after] == [second.headers["x-sim-request-id"]]
    assert "client_request_id" not in after[0]
    mine = raw.get(url, params={"limit": 2}).json()["data"][0]
    assert mine["client_request_id"] == "req_1"
