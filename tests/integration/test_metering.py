"""Metering end to end: the official SDK (and raw SSE) through the proxy to the simulator.

Every expected figure is computed here from the usage the simulator reports and the rates in the
price table (USD per 1M tokens): uncached input x input rate, cached input x cached rate,
reasoning x output rate, visible output x output rate. The simulator's usage convention is
OpenAI's: `prompt_tokens` includes the cached ones, `completion_tokens` includes reasoning.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.metering.pricing import load_pricing
from router.store.base import LedgerRecord
from tests.integration.configs import sim_models, write_config
from tests.integration.conftest import DEV_KEY, url
from tests.integration.served import leave_mid_stream, on_loop, services_of
from tests.integration.test_ledger import Proxy

AUTH = {"authorization": f"Bearer {DEV_KEY}"}
MILLION = Decimal(1_000_000)
PARTS = ("input", "cached_input", "cache_write", "reasoning", "output")
REASONER = "sim-mini-reasoner"


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def ledger(proxy: ServerThread, request_id: str, wait: float = 10.0) -> list[LedgerRecord]:
    """Every ledger record with this request id, once the writer has stored what it holds."""
    services = services_of(proxy)

    async def query() -> list[LedgerRecord]:
        await services.ledger.flush()
        return [r for r in await services.store.query_ledger() if r.request_id == request_id]

    deadline = time.monotonic() + wait
    records: list[LedgerRecord] = on_loop(proxy, query())
    while not records and time.monotonic() < deadline:  # a stream closes after its last byte
        time.sleep(0.05)
        records = on_loop(proxy, query())
    return records


def expected_parts(model: str, usage: dict[str, Any]) -> dict[str, Decimal]:
    rates = load_pricing().lookup(model, "simulator").rates
    prompt = usage["prompt_tokens"]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
    visible = usage["completion_tokens"] - reasoning
    cached_rate = rates.cached_input if rates.cached_input is not None else rates.input
    return {
        "input": (prompt - cached) * rates.input / MILLION,
        "cached_input": cached * cached_rate / MILLION,
        "cache_write": Decimal(0),
        "reasoning": reasoning * rates.output / MILLION,
        "output": visible * rates.output / MILLION,
    }


def detail(header: str) -> dict[str, Decimal]:
    pairs = (item.split("=", 1) for item in header.split("; "))
    return {name: Decimal(value) for name, value in pairs}


def true_usage(proxy: ServerThread, body: dict[str, Any]) -> dict[str, Any]:
    """What the simulator reports for this request (stream options and faults do not change the
    answer), asked directly, without the proxy."""
    sim_url = services_of(proxy).targets["sim-small"].base_url
    direct = {k: v for k, v in body.items() if k not in ("stream", "stream_options", "sim")}
    resp = httpx.post(f"{sim_url}/chat/completions", json=direct, timeout=30)
    assert resp.status_code == 200, resp.text
    usage: dict[str, Any] = resp.json()["usage"]
    return usage


def raw_stream(proxy: ServerThread, body: dict[str, Any]) -> tuple[str, list[bytes]]:
    """The request id and every SSE event (raw, without the blank line), read with httpx."""
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", f"{url(proxy)}/chat/completions", json=body, headers=AUTH) as resp,
    ):
        assert resp.status_code == 200
        data = resp.read()
        return resp.headers["x-request-id"], [e for e in data.split(b"\n\n") if e]


def data_events(events: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        if event.startswith(b"data: {"):
            out.append(json.loads(event[6:], parse_float=Decimal))
    return out


def cost_comment(events: list[bytes]) -> dict[str, Any]:
    """The `: tokenwise {...}` comment, which must come just before `data: [DONE]`."""
    assert events[-1] == b"data: [DONE]"
    comment = events[-2]
    assert comment.startswith(b": tokenwise ")
    summary: dict[str, Any] = json.loads(comment[len(b": tokenwise ") :])
    return summary


def test_json_answer_cost_headers_and_ledger(client: openai.OpenAI, proxy: ServerThread) -> None:
    messages = ask("Prove that the square root of two is irrational.")
    raw = client.chat.completions.with_raw_response.create(
        model=REASONER, messages=messages, reasoning_effort="low"
    )
    completion = raw.parse()
    assert completion.usage is not None
    usage = completion.usage.model_dump()
    assert usage["completion_tokens_details"]["reasoning_tokens"] > 0
    parts = expected_parts(REASONER, usage)
    total = sum(parts.values(), Decimal(0))
    assert total > 0
    assert Decimal(raw.headers["x-tokenwise-cost-usd"]) == total
    assert detail(raw.headers["x-tokenwise-cost-detail"]) == parts
    assert Decimal(raw.headers["x-tokenwise-savings-usd"]) == 0
    assert raw.headers["x-tokenwise-model"] == REASONER
    assert raw.headers["x-tokenwise-provider"] == "simulator"

    [record] = ledger(proxy, raw.headers["x-request-id"])
    assert record.cost_total == total
    assert record.cost_reasoning == parts["reasoning"]
    assert record.reasoning_tokens == usage["completion_tokens_details"]["reasoning_tokens"]
    assert record.status == "ok" and not record.estimated
    assert (record.routed_model, record.requested_model, record.team) == (REASONER, REASONER, "dev")


def test_stream_with_usage_asked_for_carries_cost_in_band(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    body = {"model": REASONER, "messages": ask("Why is the sky blue?"), "reasoning_effort": "low"}
    with client.chat.completions.with_streaming_response.create(
        **body, stream=True, stream_options={"include_usage": True}
    ) as resp:
        request_id = resp.headers["x-request-id"]
        chunks = list(resp.parse())
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1] and not chunks[-1].choices
    usage = with_usage[0].usage
    assert usage is not None
    truth = true_usage(proxy, body)
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        truth["prompt_tokens"],
        truth["completion_tokens"],
    )
    parts = expected_parts(REASONER, truth)
    total = sum(parts.values(), Decimal(0))
    extra = usage.model_extra or {}
    assert extra["cost"] == pytest.approx(float(total), rel=1e-12)
    assert extra["cost_details"]["reasoning"] == pytest.approx(float(parts["reasoning"]))

    [record] = ledger(proxy, request_id)
    assert record.cost_total == total and record.status == "ok" and not record.estimated


def test_raw_stream_with_usage_has_exact_in_band_cost(proxy: ServerThread) -> None:
    body: dict[str, Any] = {
        "model": "sim-small",
        "messages": ask("Name three rivers."),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request_id, events = raw_stream(proxy, body)
    chunks = data_events(events)
    usage = chunks[-1]["usage"]
    parts = expected_parts("sim-small", true_usage(proxy, body))
    total = sum(parts.values(), Decimal(0))
    assert usage["cost"] == total
    assert {k: usage["cost_details"][k] for k in PARTS} == parts
    summary = cost_comment(events)
    assert Decimal(summary["cost_usd"]) == total
    assert summary["model"] == "sim-small" and summary["estimated"] is False
    [record] = ledger(proxy, request_id)
    assert record.cost_total == total


def test_usage_chunk_is_stripped_when_the_client_did_not_ask(proxy: ServerThread) -> None:
    body = {"model": "sim-small", "messages": ask("Name three lakes."), "stream": True}
    request_id, events = raw_stream(proxy, body)
    chunks = data_events(events)
    assert chunks and all(c.get("usage") is None for c in chunks)
    assert all(c["choices"] for c in chunks)  # no usage-only chunk left behind
    assert any(c["choices"][0]["finish_reason"] == "stop" for c in chunks)
    total = sum(expected_parts("sim-small", true_usage(proxy, body)).values(), Decimal(0))
    summary = cost_comment(events)
    assert Decimal(summary["cost_usd"]) == total > 0
    [record] = ledger(proxy, request_id)
    assert record.cost_total == total and not record.estimated


@pytest.mark.parametrize("asked", [True, False])
def test_stream_without_usage_is_counted_never_zero(proxy: ServerThread, asked: bool) -> None:
    body: dict[str, Any] = {
        "model": REASONER,
        "messages": ask("How many primes are there below one hundred?"),
        "reasoning_effort": "low",
        "stream": True,
        "sim": {"fault": {"no_usage": True}},
    }
    if asked:
        body["stream_options"] = {"include_usage": True}
    request_id, events = raw_stream(proxy, body)
    truth = true_usage(proxy, body)
    summary = cost_comment(events)
    assert summary["estimated"] is True
    [record] = ledger(proxy, request_id)
    assert record.estimated and record.status == "ok"
    # The simulator's words are one token each, so the local count lands on the true figures.
    truth_reasoning = truth["completion_tokens_details"]["reasoning_tokens"]
    assert record.reasoning_tokens == truth_reasoning
    assert record.output_tokens == truth["completion_tokens"] - truth_reasoning
    assert abs(record.input_uncached_tokens - truth["prompt_tokens"]) <= 4
    counted = {
        "prompt_tokens": record.input_uncached_tokens,
        "completion_tokens": record.output_tokens + record.reasoning_tokens,
        "completion_tokens_details": {"reasoning_tokens": record.reasoning_tokens},
    }
    total = sum(expected_parts(REASONER, counted).values(), Decimal(0))
    assert total > 0
    assert record.cost_total == total == Decimal(summary["cost_usd"])
    chunks = data_events(events)
    usage_chunks = [c for c in chunks if c.get("usage")]
    if asked:  # an estimated usage chunk is made up for the client, with its cost
        [chunk] = usage_chunks
        assert chunk["usage"]["estimated"] is True
        assert chunk["usage"]["completion_tokens"] == counted["completion_tokens"]
        assert chunk["usage"]["cost"] == total
    else:
        assert usage_chunks == []


@pytest.mark.parametrize("asked", [True, False])
def test_usage_in_a_chunk_with_choices(proxy: ServerThread, asked: bool) -> None:
    body: dict[str, Any] = {
        "model": "sim-small",
        "messages": ask("Describe a river delta."),
        "stream": True,
        "sim": {"fault": {"usage_on_last_content_chunk": True}},
    }
    if asked:
        body["stream_options"] = {"include_usage": True}
    request_id, events = raw_stream(proxy, body)
    chunks = data_events(events)
    assert all(c["choices"] for c in chunks)  # no chunk of its own for usage
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    total = sum(expected_parts("sim-small", true_usage(proxy, body)).values(), Decimal(0))
    if asked:
        assert last["usage"]["cost"] == total
        assert [c for c in chunks if c.get("usage")] == [last]
    else:
        assert all(c.get("usage") is None for c in chunks)
    assert Decimal(cost_comment(events)["cost_usd"]) == total
    [record] = ledger(proxy, request_id)
    assert record.cost_total == total and not record.estimated


def test_client_leaving_mid_stream_is_metered_for_what_was_generated(
    proxy: ServerThread,
) -> None:
    tool = {"type": "function", "function": {"name": "atlas", "description": "rivers " * 80}}
    body = {
        "model": "sim-small",
        "messages": ask("Tell a long story about a river."),
        "tools": [tool],
        "tool_choice": "none",
        "stream": True,
        "stream_options": {"include_usage": True},
        "sim": {"completion_tokens": 400, "tokens_per_chunk": 2, "inter_chunk_ms": 10},
    }
    request_id = leave_mid_stream(f"{url(proxy)}/chat/completions", body, AUTH, "data: {")
    [record] = ledger(proxy, request_id)
    assert record.status == "cancelled"
    assert record.estimated
    assert record.input_uncached_tokens > 80  # the tool definition the upstream was sent too
    generated = record.output_tokens + record.reasoning_tokens
    assert 20 <= generated < 400  # at least what this client read, less than the whole answer
    counted = {
        "prompt_tokens": record.input_uncached_tokens,
        "completion_tokens": generated,
        "completion_tokens_details": {"reasoning_tokens": record.reasoning_tokens},
    }
    total = sum(expected_parts("sim-small", counted).values(), Decimal(0))
    assert record.cost_total == total > 0


# Reloading the price table while serving


MASTER = "tw-master-for-pricing"


def scaled_prices(shipped: dict[str, Any], model: str, factor: Decimal) -> str:
    """The price file with one model's token rates multiplied by `factor`."""
    doc = json.loads(json.dumps(shipped, default=float))  # a deep copy, prices as numbers
    entry = doc["models"][model]
    for part in ("input", "cached_input", "output"):
        if part in entry:
            entry[part] = float(Decimal(str(entry[part])) * factor)
    return json.dumps(doc)


def test_prices_reload_on_sighup_and_admin_call(tmp_path: Path) -> None:
    shipped = json.loads(Path(load_pricing().path).read_text(encoding="utf-8"), parse_float=Decimal)
    prices = tmp_path / "pricing.json"
    prices.write_text(scaled_prices(shipped, "sim-small", Decimal(1)), encoding="utf-8")
    server = Proxy(
        tmp_path / "home", env={"TOKENWISE_PRICING": str(prices), "TOKENWISE_MASTER_KEY": MASTER}
    )
    admin = {"authorization": f"Bearer {MASTER}"}

    def cost() -> Decimal:
        resp = httpx.post(
            f"{server.base}/v1/chat/completions",
            json={"model": "sim-small", "messages": ask("Name a planet."), "seed": 3},
            headers={"authorization": f"Bearer {server.key}"},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        return Decimal(resp.headers["x-tokenwise-cost-usd"])

    def eventually(expected: Decimal) -> Decimal:
        deadline = time.monotonic() + 10
        seen = cost()
        while seen != expected and time.monotonic() < deadline:
            time.sleep(0.1)
            seen = cost()
        return seen

    try:
        before = cost()
        assert before > 0
        prices.write_text(scaled_prices(shipped, "sim-small", Decimal(2)), encoding="utf-8")
        server.proc.send_signal(signal.SIGHUP)
        assert eventually(before * 2) == before * 2

        prices.write_text(scaled_prices(shipped, "sim-small", Decimal(-1)), encoding="utf-8")
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "reload failed" in server.output() and "output" in server.output()
        assert cost() == before * 2  # the bad file changed nothing

        bad = httpx.post(f"{server.base}/admin/pricing/reload", headers=admin, timeout=10)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_pricing_file"
        assert cost() == before * 2

        prices.write_text(scaled_prices(shipped, "sim-small", Decimal(1)), encoding="utf-8")
        wrong = {"authorization": f"Bearer {server.key}"}
        refused = httpx.post(f"{server.base}/admin/pricing/reload", headers=wrong, timeout=10)
        assert refused.status_code == 401
        done = httpx.post(f"{server.base}/admin/pricing/reload", headers=admin, timeout=10)
        assert done.status_code == 200, done.text
        assert done.json()["changed"] == ["sim-small"]
        assert cost() == before
    finally:
        server.stop()


def unanswered_counts(proxy: ServerThread, model: str) -> tuple[float, float]:
    text = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics", timeout=10).text
    count = cost = 0.0
    for line in text.splitlines():
        if f'model="{model}"' not in line:
            continue
        if line.startswith("tokenwise_unanswered_total{") and 'effort="high"' in line:
            count += float(line.rsplit(" ", 1)[1])
        if line.startswith("tokenwise_unanswered_cost_usd_total{"):
            cost += float(line.rsplit(" ", 1)[1])
    return count, cost


@pytest.mark.parametrize("model", [REASONER, "sim-think"])  # reasoning field, <think> tags
def test_an_answer_the_limit_spent_on_reasoning_is_named(
    client: openai.OpenAI, proxy: ServerThread, model: str
) -> None:
    """A small max_tokens at high effort: reasoning takes every token and the answer is empty
    (`finish_reason: length`). The client is told (a header, the stream's summary), and the
    paid-for non-answer is counted; an answer with room to spare is not."""
    before = unanswered_counts(proxy, model)
    raw = client.chat.completions.with_raw_response.create(
        model=model,
        messages=ask("Prove that there are infinitely many primes."),
        reasoning_effort="high",
        max_tokens=120,
    )
    answer = raw.parse()
    assert answer.choices[0].finish_reason == "length" and not answer.choices[0].message.content
    assert answer.usage is not None and answer.usage.completion_tokens_details is not None
    reasoning = answer.usage.completion_tokens_details.reasoning_tokens
    assert raw.headers["x-tokenwise-answer"] == (
        f"visible=0; reasoning={reasoning}; finish_reason=length; "
        "hint=raise max_tokens or lower reasoning_effort"
    )
    body = {
        "model": model,
        "messages": ask("Prove that there are infinitely many primes."),
        "reasoning_effort": "high",
        "max_tokens": 120,
        "stream": True,
    }
    _, events = raw_stream(proxy, body)
    summary = cost_comment(events)
    assert summary["unanswered"] == "the output limit went to reasoning"
    count, cost = unanswered_counts(proxy, model)
    paid = Decimal(raw.headers["x-tokenwise-cost-usd"]) + Decimal(summary["cost_usd"])
    assert count == before[0] + 2
    assert abs(Decimal(str(cost - before[1])) - paid) < Decimal("0.000001")
    roomy = client.chat.completions.with_raw_response.create(
        model=model, messages=ask("What is 2 + 2?"), reasoning_effort="low", max_tokens=20000
    )
    assert roomy.parse().choices[0].message.content
    assert "x-tokenwise-answer" not in roomy.headers
    assert unanswered_counts(proxy, model)[0] == count


def counter_sum(proxy: ServerThread, prefix: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


@pytest.mark.parametrize(
    "field",
    [{"tools": [{"type": "function"}]}, {"response_format": {"type": "banana"}}],
    ids=["tools", "response_format"],
)
def test_a_request_the_proxy_refuses_is_the_clients_error_not_the_upstreams(
    proxy: ServerThread, field: dict[str, Any]
) -> None:
    """A request the upstream refuses as malformed (400; here the simulator's own checks) is
    counted and recorded as the client's error: dashboards and alerts on upstream errors must
    not see a malformed request as a provider failing."""
    upstream = "tokenwise_upstream_errors_total{"
    before = counter_sum(proxy, upstream)
    answer = httpx.post(
        f"http://127.0.0.1:{proxy.port}/v1/chat/completions",
        headers={"Authorization": f"Bearer {DEV_KEY}"},
        json={"model": "sim-small", "messages": ask("hi"), **field},
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    [record] = ledger(proxy, answer.headers["x-request-id"])
    assert record.status == "client_error"
    assert counter_sum(proxy, upstream) == before


@pytest.fixture
def own_proxy(sim: ServerThread, tmp_path: Path) -> Iterator[ServerThread]:
    """A proxy of its own: failing on purpose must not open the shared proxy's breaker."""
    home = tmp_path / "home"
    config = write_config(home, sim_models(sim.port))
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": DEV_KEY}
    with serving(create_app(load_settings(str(config), env=env))) as server:
        yield server


def test_every_failed_try_counts_as_an_upstream_error_once(own_proxy: ServerThread) -> None:
    """A 503 a retry covered is still the provider failing (dashboards and alerts on upstream
    errors must see it); a request that fails on every try counts each try, once."""
    proxy = own_proxy
    upstream = "tokenwise_upstream_errors_total{"
    before = counter_sum(proxy, upstream)
    covered = httpx.post(
        f"http://127.0.0.1:{proxy.port}/v1/chat/completions",
        headers={"Authorization": f"Bearer {DEV_KEY}"},
        json={
            "model": "sim-small",
            "messages": ask("retried once " + str(time.time())),
            "sim": {"fault": {"status": 503, "fail_first": 1}},
        },
        timeout=30,
    )
    assert covered.status_code == 200 and covered.headers["x-tokenwise-attempts"] == "2"
    assert counter_sum(proxy, upstream) == before + 1
    failed = httpx.post(
        f"http://127.0.0.1:{proxy.port}/v1/chat/completions",
        headers={"Authorization": f"Bearer {DEV_KEY}"},
        json={"model": "sim-small", "messages": ask("never"), "sim": {"fault": {"status": 503}}},
        timeout=30,
    )
    assert failed.status_code == 503, failed.text
    tries = int(failed.headers["x-tokenwise-attempts"])
    assert counter_sum(proxy, upstream) == before + 1 + tries


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_client_leaving_before_the_first_byte_cancels_the_upstream_call(
    proxy: ServerThread, stream: bool
) -> None:
    """The upstream takes 3 s to its first byte; the client gives up after 0.3 s. The request
    ends then, not when the upstream answers: recorded as cancelled, nothing billed."""
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"http://127.0.0.1:{proxy.port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {DEV_KEY}"},
            json={
                "model": "sim-small",
                "messages": ask("hello world " + str(stream)),
                "stream": stream,
                "user": f"leaver-{stream}",
                "sim": {"fault": {"slow_first_byte_ms": 3000}},
            },
            timeout=0.3,
        )
    services = services_of(proxy)

    async def leaver() -> list[LedgerRecord]:
        await services.ledger.flush()
        return [r for r in await services.store.query_ledger() if r.user == f"leaver-{stream}"]

    records: list[LedgerRecord] = []
    while not records and time.monotonic() - started < 2.5:
        time.sleep(0.05)
        records = on_loop(proxy, leaver())
    assert records, "the request was still waiting for the upstream 2.5 s later"
    [record] = records
    assert record.status == "cancelled" and record.latency_ms < 2000, record
    assert record.cost_total == 0 and record.output_tokens == 0
