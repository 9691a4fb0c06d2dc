"""The official OpenAI SDK against the proxy, over loopback, with the simulator upstream."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from router.localserver import ServerThread
from tests.integration.conftest import DEV_KEY, url

ASK = [{"role": "user", "content": "What is the capital of Australia?"}]


def test_sync_json(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="sim-small", messages=ASK)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.system_fingerprint
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert raw.headers["x-tokenwise-model"] == "sim-small"
    assert raw.headers["x-tokenwise-provider"] == "simulator"
    assert raw.headers["x-request-id"]


def test_response_is_relayed_byte_for_byte(proxy: ServerThread) -> None:
    """Ids, fingerprint, finish reasons and fields the proxy does not know come back intact."""
    body = {"model": "sim-small", "messages": ASK, "seed": 7}
    via_proxy = httpx.post(
        f"{url(proxy)}/chat/completions",
        json=body,
        headers={"authorization": f"Bearer {DEV_KEY}"},
    )
    sim_url = proxy_sim_url(proxy)
    direct = httpx.post(f"{sim_url}/chat/completions", json=body)
    assert via_proxy.status_code == direct.status_code == 200
    assert via_proxy.content == direct.content


def proxy_sim_url(proxy: ServerThread) -> str:
    """The in-process simulator's URL, read from the proxy's own targets."""
    app = proxy.server.config.app
    services = app.state.services
    return str(services.targets["sim-small"].base_url)


def test_unknown_fields_are_forwarded(client: openai.OpenAI) -> None:
    """The simulator only obeys `sim` if it arrives: the proxy forwarded an unknown field."""
    completion = client.chat.completions.create(
        model="sim-small", messages=ASK, extra_body={"sim": {"completion_tokens": 7}}
    )
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 7


def test_n_choices_and_logprobs(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="sim-small", messages=ASK, n=3, logprobs=True, top_logprobs=2, seed=1
    )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content
    assert len(logprobs.content[0].top_logprobs) == 2


def test_sync_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="sim-small", messages=ASK, stream=True, stream_options={"include_usage": True}
    )
    text, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(text).strip()
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0


async def test_async_json_and_stream(aclient: openai.AsyncOpenAI) -> None:
    completion = await aclient.chat.completions.create(model="sim-small", messages=ASK)
    assert completion.choices[0].message.content
    stream = await aclient.chat.completions.create(model="sim-small", messages=ASK, stream=True)
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces).strip()


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city", "unit"],
        },
    },
}


@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(client: openai.OpenAI, stream: bool) -> None:
    messages: list[dict[str, object]] = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        calls: dict[int, dict[str, str]] = {}
        for chunk in client.chat.completions.create(
            model="sim-small", messages=messages, tools=[WEATHER_TOOL], stream=True
        ):
            for tc in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
                entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                if tc.function:
                    entry["name"] += tc.function.name or ""
                    entry["arguments"] += tc.function.arguments or ""
        call = calls[0]
    else:
        completion = client.chat.completions.create(
            model="sim-small", messages=messages, tools=[WEATHER_TOOL], tool_choice="auto"
        )
        assert completion.choices[0].finish_reason == "tool_calls"
        tc = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
        call = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
    assert call["name"] == "get_weather"
    args = json.loads(call["arguments"])
    assert isinstance(args["city"], str) and args["unit"] in ("c", "f")
    messages += [
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 21}'},
    ]
    answer = client.chat.completions.create(
        model="sim-small", messages=messages, tools=[WEATHER_TOOL]
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content


def test_json_schema_response_format(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city", "population", "tags"],
        "additionalProperties": False,
    }
    completion = client.chat.completions.create(
        model="sim-small",
        messages=ASK,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": schema, "strict": True},
        },
        seed=3,
        user="user-42",
        metadata={"purpose": "test"},
    )
    doc = json.loads(completion.choices[0].message.content or "")
    assert isinstance(doc["city"], str)
    assert isinstance(doc["population"], int)
    assert isinstance(doc["tags"], list)


def test_models_lists_catalog_and_virtual_models(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert {"auto", "auto-economy", "auto-quality"} <= set(models)
    sims = [m for name, m in models.items() if name.startswith("sim-")]
    assert len(sims) >= 7
    assert all(m.owned_by == "tokenwise-simulator" for m in sims)


def test_a_model_is_retrieved_by_name(client: openai.OpenAI) -> None:
    listed = {m.id: m for m in client.models.list()}
    for name in ("auto", "sim-small", "sim-large-reasoner"):
        assert client.models.retrieve(name) == listed[name]
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-99")
    assert missing.value.code == "model_not_found" and "gpt-99" in missing.value.message
    anonymous = openai.OpenAI(base_url=client.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.models.retrieve("auto")


def test_virtual_model_is_routed_and_says_why(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=ASK)
    assert raw.headers["x-tokenwise-model"] == "sim-small"
    assert "reason=" in raw.headers["x-tokenwise-route"]


def test_embeddings_pass_through(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="sim-small", input=["hello", "world"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) > 0
    with pytest.raises(openai.NotFoundError) as virtual:
        client.embeddings.create(model="auto", input="hello")
    assert "'auto' routes chat requests" in virtual.value.message
    tokens = client.embeddings.create(model="sim-small", input=[1] * 3000)  # one input
    assert len(tokens.data) == 1


@pytest.mark.parametrize(
    ("given", "param", "words"),
    [
        ("", "input", "the string is empty"),
        (["hello", ""], "input[1]", "it is empty"),
        ([[1, 2], []], "input[1]", "it is empty"),
        (["a"] * 2049, "input", "at most 2048 per request"),
    ],
)
def test_embeddings_refuse_what_openai_refuses(
    client: openai.OpenAI, given: object, param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="sim-small", input=given)  # type: ignore[arg-type]
    assert refused.value.param == param
    assert refused.value.code == "invalid_value"
    assert words in refused.value.message


def test_ops_endpoints(proxy: ServerThread) -> None:
    base = f"http://127.0.0.1:{proxy.port}"
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["status"] == "ready" and ready["simulated"] is True
    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert "tokenwise_requests_total" in metrics.text
