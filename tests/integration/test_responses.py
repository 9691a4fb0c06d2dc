"""The Responses API through the proxy with the official SDK: a native and a translated upstream.

Two proxies share one simulator. In `native` the models declare `apis: [chat, responses]`, so the
proxy passes Responses requests through to the simulator's own /v1/responses; in `translated`
the same models declare nothing (chat only), so the proxy translates to chat completions and
back. The client code is the same for both, and so is what it receives (ids aside).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest
from pydantic import BaseModel

from router.localserver import ServerThread
from tests.integration.conftest import DEV_KEY, url
from tests.integration.served import leave_mid_stream, serve_config
from tests.integration.test_metering import ledger
from tests.integration.test_routing import HARD_MATH, route_of, sim_log

QUESTION = "What is the capital of Australia?"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
CONFIG = """
providers:
  sim:
    base_url: http://127.0.0.1:{port}/v1
models:
  sim-small:
    provider: sim
{small_apis}
  sim-large-reasoner:
    provider: sim
    reasoning: {{efforts: [low, medium, high]}}
{large_apis}
responses:
  conversations: {conversations}
"""


def config_text(port: int, *, native_small: bool, native_large: bool, conversations: bool) -> str:
    """sim-small and sim-large-reasoner on the simulator at `port`; a `native_*` model declares
    the Responses API (and sim-small legacy completions), the others are translated for."""
    return CONFIG.format(
        port=port,
        small_apis="    apis: [chat, responses, completions]" if native_small else "",
        large_apis="    apis: [chat, responses]" if native_large else "",
        conversations=str(conversations).lower(),
    )


def module_proxy(name: str, *, native: bool, conversations: bool) -> Any:
    """The module-scoped fixture `name`: a proxy over the shared simulator, both models native
    or both translated for, keeping conversations or not."""

    @pytest.fixture(scope="module", name=name)
    def serve(
        sim: ServerThread, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[ServerThread]:
        text = config_text(
            sim.port, native_small=native, native_large=native, conversations=conversations
        )
        env = {"TOKENWISE_DEV_KEY": DEV_KEY}
        with serve_config(tmp_path_factory.mktemp(name), text, env) as server:
            yield server

    return serve


native = module_proxy("native", native=True, conversations=False)
translated = module_proxy("translated", native=False, conversations=True)
forgetful = module_proxy("forgetful", native=False, conversations=False)


def sdk(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=url(server), api_key=DEV_KEY, max_retries=0)


def comparable(response: Any) -> dict[str, Any]:
    """What must be equal on both paths: everything but ids and timestamps."""
    data = response.model_dump(mode="json", exclude_none=True)
    for key in ("id", "created_at", "completed_at"):
        data.pop(key, None)
    for item in data["output"]:
        item.pop("id", None)
        item.pop("call_id", None)
    data.pop("usage", None)
    data["usage_tokens"] = {
        k: v for k, v in response.usage.model_dump().items() if k not in ("cost", "cost_details")
    }
    return data


def both(
    native: ServerThread, translated: ServerThread, run: Callable[[openai.OpenAI], Any]
) -> tuple[Any, Any]:
    with sdk(native) as a, sdk(translated) as b:
        return run(a), run(b)


def test_plain_create_is_the_same_on_both_paths(
    native: ServerThread, translated: ServerThread
) -> None:
    def run(client: openai.OpenAI) -> Any:
        raw = client.responses.with_raw_response.create(model="sim-small", input=QUESTION)
        return raw.headers, raw.parse()

    (h1, r1), (h2, r2) = both(native, translated, run)
    assert r1.object == r2.object == "response"
    assert r1.status == "completed"
    assert r1.output_text and r1.output_text == r2.output_text
    assert comparable(r1) == comparable(r2)
    assert r1.usage.input_tokens > 0 and r1.usage.output_tokens > 0
    for server, headers, answer in ((native, h1, r1), (translated, h2, r2)):
        assert headers["x-tokenwise-model"] == "sim-small"
        assert float(headers["x-tokenwise-cost-usd"]) > 0
        assert "reasoning=" in headers["x-tokenwise-cost-detail"]
        [record] = ledger(server, headers["x-request-id"])
        assert record.endpoint == "responses" and not record.estimated  # the upstream's usage
        assert record.output_tokens == answer.usage.output_tokens
        assert record.input_uncached_tokens == answer.usage.input_tokens


def test_stream_true_is_the_same_on_both_paths(
    native: ServerThread, translated: ServerThread
) -> None:
    def run(client: openai.OpenAI) -> tuple[list[Any], Any]:
        events = list(client.responses.create(model="sim-small", input=QUESTION, stream=True))
        return events, client.responses.create(model="sim-small", input=QUESTION)

    (e1, j1), (e2, j2) = both(native, translated, run)
    assert [e.type for e in e1] == [e.type for e in e2]
    assert [e.sequence_number for e in e1] == list(range(len(e1)))
    assert e1[0].type == "response.created" and e1[-1].type == "response.completed"
    text = "".join(e.delta for e in e1 if e.type == "response.output_text.delta")
    assert text == j1.output_text == j2.output_text  # streaming equals non-streaming
    final1, final2 = e1[-1].response, e2[-1].response
    assert comparable(final1) == comparable(final2) == comparable(j1)
    assert final1.usage.model_extra["cost"] == final2.usage.model_extra["cost"] > 0


def test_stream_helper_with_reasoning_summary(
    native: ServerThread, translated: ServerThread
) -> None:
    def run(client: openai.OpenAI) -> tuple[list[str], Any]:
        with client.responses.stream(
            model="sim-large-reasoner",
            input="Prove that the square root of 2 is irrational.",
            reasoning={"effort": "low", "summary": "auto"},
        ) as stream:
            kinds = [event.type for event in stream]
            return kinds, stream.get_final_response()

    (k1, f1), (k2, f2) = both(native, translated, run)
    assert k1 == k2
    assert "response.reasoning_summary_text.delta" in k1
    assert [o.type for o in f1.output] == ["reasoning", "message"]
    assert f1.output[0].summary[0].text == f2.output[0].summary[0].text
    assert f1.output_text == f2.output_text
    assert f1.usage.output_tokens_details.reasoning_tokens > 0
    assert (
        f1.usage.output_tokens_details.reasoning_tokens
        == f2.usage.output_tokens_details.reasoning_tokens
    )
    assert f1.reasoning.effort == "low"


def test_reasoning_effort_is_sent_and_reported(
    native: ServerThread, translated: ServerThread
) -> None:
    def run(client: openai.OpenAI) -> dict[str, int]:
        tokens = {}
        for effort in ("low", "high"):
            raw = client.responses.with_raw_response.create(
                model="sim-large-reasoner", input=QUESTION, reasoning={"effort": effort}
            )
            assert raw.headers["x-tokenwise-effort"] == f"requested={effort}; sent={effort}"
            usage = raw.parse().usage
            tokens[effort] = usage.output_tokens_details.reasoning_tokens
        return tokens

    t1, t2 = both(native, translated, run)
    assert t1 == t2
    assert t1["high"] > t1["low"] > 0


def test_function_calling_round_trip(native: ServerThread, translated: ServerThread) -> None:
    def run(client: openai.OpenAI) -> tuple[Any, Any]:
        first = client.responses.create(
            model="sim-small", input="Weather in Paris?", tools=[WEATHER]
        )
        [call] = [item for item in first.output if item.type == "function_call"]
        second = client.responses.create(
            model="sim-small",
            tools=[WEATHER],
            input=[
                {"role": "user", "content": "Weather in Paris?"},
                call.model_dump(exclude_none=True),
                {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"},
            ],
        )
        return call, second

    (c1, s1), (c2, s2) = both(native, translated, run)
    assert c1.name == c2.name == "get_weather"
    assert c1.arguments == c2.arguments and "city" in c1.arguments
    assert s1.output_text and s1.output_text == s2.output_text
    assert comparable(s1) == comparable(s2)


class City(BaseModel):
    name: str
    population: int


def test_text_format_json_schema(native: ServerThread, translated: ServerThread) -> None:
    def run(client: openai.OpenAI) -> Any:
        return client.responses.parse(model="sim-small", input="Name a city.", text_format=City)

    r1, r2 = both(native, translated, run)
    assert isinstance(r1.output_parsed, City)
    assert r1.output_parsed == r2.output_parsed
    assert r1.text.format.type == "json_schema"


def test_metering_ledger_and_in_band_cost(native: ServerThread, translated: ServerThread) -> None:
    for server in (native, translated):
        body = {"model": "sim-large-reasoner", "input": QUESTION, "stream": True}
        headers = {"authorization": f"Bearer {DEV_KEY}"}
        with httpx.stream(
            "POST", f"{url(server)}/responses", json=body, headers=headers, timeout=30
        ) as resp:
            assert resp.status_code == 200
            events = [e for e in resp.read().split(b"\n\n") if e]
            request_id = resp.headers["x-request-id"]
        assert events[-1].startswith(b": tokenwise {")
        assert b"[DONE]" not in b"".join(events)
        assert events[-2].startswith(b"event: response.completed\n")
        [record] = ledger(server, request_id)
        assert record.endpoint == "responses"
        assert record.status == "ok" and not record.estimated
        assert record.reasoning_tokens > 0 and record.output_tokens > 0
        assert record.input_uncached_tokens > 0


def test_previous_response_id_native_and_kept(
    native: ServerThread, translated: ServerThread
) -> None:
    def run(client: openai.OpenAI) -> tuple[Any, Any]:
        first = client.responses.create(model="sim-small", input="My name is Ada.")
        second = client.responses.create(
            model="sim-small", input="What is my name?", previous_response_id=first.id
        )
        assert client.responses.retrieve(first.id).output_text == first.output_text
        client.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(first.id)
        return first, second

    (a1, b1), (a2, b2) = both(native, translated, run)
    assert b1.previous_response_id == a1.id
    assert b2.previous_response_id == a2.id
    assert b1.output_text == b2.output_text  # the same conversation reached the model


def test_previous_response_id_without_kept_conversations(forgetful: ServerThread) -> None:
    with sdk(forgetful) as client:
        first = client.responses.create(model="sim-small", input="My name is Ada.")
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model="sim-small", input="Name?", previous_response_id=first.id)
    assert caught.value.body["param"] == "previous_response_id"
    assert "responses.conversations" in caught.value.message


def test_encrypted_reasoning_passes_through_native(native: ServerThread) -> None:
    with sdk(native) as client:
        first = client.responses.create(
            model="sim-large-reasoner",
            input=QUESTION,
            store=False,
            include=["reasoning.encrypted_content"],
        )
        [reasoning] = [item for item in first.output if item.type == "reasoning"]
        assert reasoning.encrypted_content
        second = client.responses.create(
            model="sim-large-reasoner",
            store=False,
            input=[
                {"role": "user", "content": QUESTION},
                reasoning.model_dump(exclude_none=True),
                *[o.model_dump(exclude_none=True) for o in first.output if o.type == "message"],
                {"role": "user", "content": "Are you sure?"},
            ],
        )
    assert second.output_text


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"input": [{"type": "web_search_call", "id": "ws_1"}]}, "input[0]"),
        (
            {"input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]},
            "input[0]",
        ),
        ({"input": "Hi", "tools": [{"type": "web_search"}]}, "tools[0]"),
    ],
)
def test_bad_input_names_the_item(
    translated: ServerThread, extra: dict[str, Any], param: str
) -> None:
    with sdk(translated) as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="sim-small", **extra)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == param
    assert param in caught.value.message


def test_built_in_tool_reaches_a_native_upstream(native: ServerThread) -> None:
    with sdk(native) as client:
        response = client.responses.create(
            model="sim-small", input="Hi", tools=[{"type": "web_search"}]
        )
    assert response.output_text


def test_legacy_completions(native: ServerThread, translated: ServerThread) -> None:
    with sdk(native) as client:
        raw = client.completions.with_raw_response.create(
            model="sim-small", prompt="Once upon a time"
        )
        completion = raw.parse()
        assert completion.object == "text_completion"
        assert completion.choices[0].text
        assert float(raw.headers["x-tokenwise-cost-usd"]) > 0
        [record] = ledger(native, raw.headers["x-request-id"])
        assert record.endpoint == "completions"
        assert record.output_tokens == completion.usage.completion_tokens
        chunks = list(
            client.completions.create(
                model="sim-small",
                prompt="Once upon a time",
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        assert "".join(c.choices[0].text for c in chunks if c.choices) == completion.choices[0].text
        assert chunks[-1].usage.model_extra["cost"] > 0
        with pytest.raises(openai.BadRequestError) as refused:
            client.completions.create(
                model="sim-small", prompt="Once", stream_options={"include_usage": True}
            )
        assert refused.value.param == "stream_options"
        assert "only allowed when 'stream' is enabled" in refused.value.message
    with sdk(translated) as client, pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="sim-small", prompt="Once upon a time")
    assert "has no legacy completions" in caught.value.message


def test_unknown_fields_reach_the_upstream(native: ServerThread, translated: ServerThread) -> None:
    """The simulator obeys `sim` only if it arrives: both paths forwarded the unknown field."""

    def run(client: openai.OpenAI) -> int:
        response = client.responses.create(
            model="sim-small", input=QUESTION, extra_body={"sim": {"completion_tokens": 7}}
        )
        return response.usage.output_tokens

    assert both(native, translated, run) == (7, 7)


def test_a_broken_stream_ends_with_an_error_the_sdk_raises(
    native: ServerThread, translated: ServerThread
) -> None:
    for server in (native, translated):
        with sdk(server) as client, pytest.raises(openai.APIError) as caught:
            stream = client.responses.create(
                model="sim-small",
                input=QUESTION,
                stream=True,
                extra_body={"sim": {"fault": {"disconnect_after_chunks": 3}}},
            )
            for _ in stream:
                pass
        assert "upstream" in caught.value.message
        with httpx.stream(
            "POST",
            f"{url(server)}/responses",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
            json={
                "model": "sim-small",
                "input": QUESTION,
                "stream": True,
                "sim": {"fault": {"disconnect_after_chunks": 3}},
            },
            timeout=30,
        ) as answer:
            blocks = answer.read().decode().strip().split("\n\n")
        assert blocks[-2].startswith(": tokenwise {"), blocks[-3:]
        name, data = blocks[-1].split("\n", 1)
        event = orjson.loads(data.removeprefix("data: "))
        assert name == "event: error" and event["type"] == "error", blocks[-1]
        assert event["code"] == "upstream_error" and event["error"]["code"] == "upstream_error"
        sequence = [orjson.loads(b.split("data: ", 1)[1])["sequence_number"] for b in blocks[:-2]]
        assert event["sequence_number"] == sequence[-1] + 1, (sequence, event)


def test_a_virtual_model_is_routed(client: openai.OpenAI) -> None:
    """The embedded default: `auto` is classified on the translated view and routed."""
    raw = client.responses.with_raw_response.create(
        model="auto", input="Prove that there are infinitely many primes."
    )
    assert "tier=" in raw.headers["x-tokenwise-route"]
    assert raw.headers["x-tokenwise-model"] in (
        "sim-mini-reasoner",
        "sim-large-reasoner",
        "sim-small",
    )
    assert raw.parse().output_text


def test_a_routed_continuation_keeps_model_and_effort_and_says_so(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    """`previous_response_id` under `auto`: the turn stays on the model that holds the
    conversation, at the effort the first turn was given, and is still classified, so the
    route header explains it; the upstream is sent that effort."""
    fast = {"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}}
    first = client.responses.with_raw_response.create(
        model="auto", input=HARD_MATH, extra_body=fast
    )
    chosen = route_of(first)
    assert chosen["tier"] == "hard" and chosen["effort"] == "high"
    second = client.responses.with_raw_response.create(
        model="auto", input="Thanks!", previous_response_id=first.parse().id, extra_body=fast
    )
    kept = route_of(second)
    assert kept["model"] == chosen["model"] == second.headers["x-tokenwise-model"]
    assert kept["effort"] == "high" and kept["category"] == "chat"
    assert kept["reason"] == f"continues previous_response_id on {chosen['model']}"
    assert second.headers["x-tokenwise-effort"] == "requested=high; sent=high"
    last = [e for e in sim_log(proxy) if e.get("model") == chosen["model"]][-1]
    assert last["effort"] == "high"
    explicit = client.responses.with_raw_response.create(
        model=chosen["model"], input="And again?", previous_response_id=second.parse().id
    )
    assert "x-tokenwise-route" not in explicit.headers  # a catalog model: nothing was decided


@pytest.mark.parametrize("model", ["sim-small", "sim-mini-reasoner"])  # native, translated
def test_client_leaving_mid_stream_is_metered(proxy: ServerThread, model: str) -> None:
    """The embedded default: sim-small speaks Responses, sim-mini-reasoner only chat."""
    body = {
        "model": model,
        "input": "Tell a long story about a river.",
        "stream": True,
        "sim": {"completion_tokens": 400, "tokens_per_chunk": 2, "inter_chunk_ms": 10},
    }
    headers = {"authorization": f"Bearer {DEV_KEY}"}
    delta = "event: response.output_text.delta"
    request_id = leave_mid_stream(f"{url(proxy)}/responses", body, headers, delta)
    [record] = ledger(proxy, request_id)
    assert record.endpoint == "responses"
    assert record.status == "cancelled"
    assert record.estimated
    assert 20 <= record.output_tokens < 400  # what the client read, less than the whole answer
    assert record.cost_total > 0


def test_input_items_native_and_kept(
    native: ServerThread, translated: ServerThread, forgetful: ServerThread
) -> None:
    """Input items pass through to a native upstream and, for a conversation the proxy keeps
    (a chat-only upstream), come from the proxy's own copy: the same items, the same pages."""
    given: Any = [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
        {"role": "user", "content": "Thanks in advance."},
    ]

    def run(client: openai.OpenAI) -> tuple[list[Any], ...]:
        made = client.responses.create(model="sim-small", input=given)
        newest_first = list(client.responses.input_items.list(made.id))
        first = client.responses.input_items.list(made.id, order="asc", limit=2)
        rest = client.responses.input_items.list(made.id, order="asc", after=first.data[-1].id)
        assert first.has_more and not rest.has_more
        return newest_first, first.data, rest.data

    for listing in both(native, translated, run):
        newest_first, first, rest = listing
        assert [item.role for item in newest_first] == ["user", "user", "system"]
        assert [item.id for item in first + rest] == [item.id for item in newest_first[::-1]]
        assert first[1].content[0].text == QUESTION
        shorthand = newest_first[0]  # sent as a bare string: listed as OpenAI lists it
        assert type(shorthand).__name__ == "ResponseInputMessageItem"
        assert shorthand.content[0].text == "Thanks in advance."
        assert shorthand.status == "completed"
    with sdk(translated) as client:
        made = client.responses.create(model="sim-small", input=QUESTION)
        [item] = client.responses.input_items.list(made.id).data
        assert item.role == "user" and item.content[0].text == QUESTION
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.input_items.list(made.id, limit=1000)
        assert caught.value.body["param"] == "limit"
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.input_items.list(made.id, after="msg_nowhere")
        assert caught.value.body["param"] == "after"
    with sdk(forgetful) as client:  # nothing kept: a 404 that says why
        made = client.responses.create(model="sim-small", input=QUESTION)
        with pytest.raises(openai.NotFoundError) as missing:
            client.responses.input_items.list(made.id)
    assert "responses.conversations" in missing.value.message


async def test_async_stream_helper(aclient: openai.AsyncOpenAI) -> None:
    """The async SDK: sim-mini-reasoner is chat-only in the embedded default (translated)."""
    async with aclient.responses.stream(
        model="sim-mini-reasoner", input="Is 221 prime?", reasoning={"effort": "medium"}
    ) as stream:
        deltas = [
            event.delta async for event in stream if event.type == "response.output_text.delta"
        ]
        final = await stream.get_final_response()
    assert "".join(deltas) == final.output_text
    assert [item.type for item in final.output] == ["message"]  # no summary asked, none shown
    assert final.usage is not None
    assert final.usage.output_tokens_details.reasoning_tokens > 0  # yet metered


def test_a_native_answer_is_relayed_byte_for_byte(native: ServerThread, sim: ServerThread) -> None:
    """What the proxy relays is the simulator's own JSON, as the simulator stored it."""
    body = {
        "model": "sim-large-reasoner",
        "input": QUESTION,
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "vendor_extension": {"kept": True},
    }
    headers = {"authorization": f"Bearer {DEV_KEY}"}
    via_proxy = httpx.post(f"{url(native)}/responses", json=body, headers=headers, timeout=30)
    assert via_proxy.status_code == 200
    made = via_proxy.json()
    direct = httpx.get(f"http://127.0.0.1:{sim.port}/v1/responses/{made['id']}", timeout=30)
    assert via_proxy.content == direct.content
    assert made["output"][0]["encrypted_content"]


def test_a_failing_upstream_is_retried_on_both_paths_and_for_completions(
    native: ServerThread, translated: ServerThread
) -> None:
    fault = {"sim": {"fault": {"status": 503, "fail_first": 1}}}
    for server, label in ((native, "native"), (translated, "translated")):
        with sdk(server) as client:
            for stream in (False, True):
                ask = f"{QUESTION} ({label}, stream={stream}, retried)"
                raw = client.responses.with_raw_response.create(
                    model="sim-small", input=ask, stream=stream, extra_body=fault
                )
                assert raw.headers["x-tokenwise-attempts"] == "2"
                if stream:
                    events = list(raw.parse())
                    assert events[-1].type == "response.completed"
                else:
                    assert raw.parse().output_text
    with sdk(native) as client:
        raw = client.completions.with_raw_response.create(
            model="sim-small", prompt="Once upon a time, retried", extra_body=fault
        )
        assert raw.headers["x-tokenwise-attempts"] == "2"
        assert raw.parse().choices[0].text


def test_an_empty_input_is_named_on_both_paths(
    native: ServerThread, translated: ServerThread
) -> None:
    for server in (native, translated):
        with sdk(server) as client, pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model="sim-small", input=[])
        error = caught.value.body
        assert isinstance(error, dict) and error["param"] == "input", error
        assert error["code"] == "invalid_value" and "'input'" in error["message"]


def test_a_bad_reasoning_effort_is_named_as_the_client_sent_it(native: ServerThread) -> None:
    with sdk(native) as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="sim-small",
            input="hi",
            reasoning={"effort": "banana"},  # type: ignore[typeddict-item]
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == "reasoning.effort", error
    assert error["message"].startswith("reasoning.effort must be one of")


@pytest.mark.parametrize(
    ("extra", "words"),
    [({"best_of": 1, "n": 2}, "at least 'n'"), ({"best_of": 2, "stream": True}, "streamed")],
)
def test_best_of_is_checked_as_openai_checks_it(
    native: ServerThread, extra: dict[str, Any], words: str
) -> None:
    answer = httpx.post(
        f"{url(native)}/completions",
        headers={"Authorization": f"Bearer {DEV_KEY}"},
        json={"model": "sim-small", "prompt": "Once upon a time", **extra},
        timeout=10,
    )
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["param"] == "best_of" and words in error["message"]
