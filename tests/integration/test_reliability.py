"""Retries, fallbacks, breakers and shedding through a real proxy in front of the simulator.

The upstream misbehaves on purpose (router/sim/faults.py), per model in the simulator's config
or per request (`sim.fault`, which reaches every attempt and every fallback). Every case of the
matrix ends in a defined outcome for the client (an answer, a fallback's answer, an error status,
or an error event once the stream has begun), the simulator's own log shows how many times the
upstream was asked, one ledger record is written per request, every reservation is settled, and
afterwards no task, connection or file descriptor is left over.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from router.localserver import ServerThread, serving
from router.sim.app import create_sim_app
from router.sim.config import build_sim_config
from router.store.base import LedgerRecord
from router.store.rules import micros_down, usd
from tests.integration.conftest import closed_port
from tests.integration.served import on_loop, serve_config, services_of

KEY = "tw-reliability-key"
AUTH = {"authorization": f"Bearer {KEY}"}
SIM_MODELS = {
    "sim-broken": {"base": "sim-small", "fault": {"status": 500, "message": "broken on purpose"}},
    "sim-tiny": {"base": "sim-small", "context_window": 60},
    "sim-down": {"base": "sim-small", "fault": {"status": 500, "fail_first": 5}},
}


def proxy_config(sim: ServerThread, reliability: str) -> str:
    return f"""
server:
  timeouts: {{connect: 2, first_byte: 0.8, idle: 0.8, total: 20}}
providers:
  sim: {{base_url: "http://127.0.0.1:{sim.port}/v1"}}
  dead: {{base_url: "http://127.0.0.1:{closed_port()}/v1"}}
models:
  sim-small: {{provider: sim, context_window: 128000}}
  sim-think: {{provider: sim, context_window: 131072,
              reasoning: {{efforts: [low, medium, high], output_field: think_tags}}}}
  sim-broken: {{provider: sim, price: sim-large-reasoner}}
  sim-tiny: {{provider: sim, context_window: 60, price: sim-small}}
  sim-down: {{provider: sim, price: sim-small}}
  ghost: {{provider: dead, price: sim-small}}
auth:
  keys: [{{team: rel, key_env: REL_KEY, name: rel}}]
budgets:
  limits: [{{scope: "team:rel", limit_usd: 100, window: day}}]
reliability:
{reliability}
"""


MAIN = """
  retries: {attempts: 3, base_ms: 5, max_ms: 20, deadline_s: 3}
  breaker: {min_requests: 1000}
  max_in_flight: 6
  fallbacks:
    sim-broken: [sim-small]
    ghost: [sim-broken]
    sim-tiny: [sim-small]
"""
BREAKER = """
  retries: {attempts: 3, base_ms: 5, max_ms: 20}
  breaker: {window_s: 30, min_requests: 4, error_rate: 0.5, open_s: 1}
"""


def start_proxy(sim: ServerThread, home: Path, reliability: str) -> Any:
    return serve_config(home, proxy_config(sim, reliability), {"REL_KEY": KEY})


@pytest.fixture(scope="module")
def faulty_sim() -> Iterator[ServerThread]:
    with serving(create_sim_app(build_sim_config({"models": SIM_MODELS}))) as server:
        yield server


@pytest.fixture(scope="module")
def proxy(faulty_sim: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with start_proxy(faulty_sim, tmp_path_factory.mktemp("rel"), MAIN) as server:
        yield server


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def chat_url(server: ServerThread) -> str:
    return f"http://127.0.0.1:{server.port}/v1/chat/completions"


def post(server: ServerThread, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(chat_url(server), json=body, headers=AUTH, timeout=30)


def stream_events(server: ServerThread, body: dict[str, Any]) -> tuple[httpx.Response, list[Any]]:
    with httpx.stream("POST", chat_url(server), json=body, headers=AUTH, timeout=30) as resp:
        text = resp.read().decode()
    if resp.status_code != 200:
        return resp, []
    events = [e for e in text.split("\n\n") if e.startswith("data: ")]
    return resp, [e[6:] if e == "data: [DONE]" else orjson.loads(e[6:]) for e in events]


def sim_log(sim: ServerThread) -> list[dict[str, Any]]:
    """Every upstream call the simulator has logged, oldest first."""
    log: list[dict[str, Any]] = httpx.get(f"http://127.0.0.1:{sim.port}/sim/log").json()["data"]
    return log


def upstream_calls(sim: ServerThread, request_id: str) -> list[dict[str, Any]]:
    """What the simulator logged for one proxy request (every attempt, every fallback)."""
    return [e for e in sim_log(sim) if e.get("client_request_id") == request_id]


def ledger_of(server: ServerThread, request_id: str) -> LedgerRecord:
    services = services_of(server)
    deadline = time.monotonic() + 10
    while True:
        on_loop(server, services.ledger.flush(2))
        records = on_loop(server, services.store.query_ledger(team="rel"))
        found = [r for r in records if r.request_id == request_id]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} ledger records for {request_id}"
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.05)


@dataclass(frozen=True)
class Case:
    """One misbehaviour and what the client must see."""

    name: str
    model: str
    stream: bool = False
    fault: dict[str, Any] = field(default_factory=dict)
    status: int = 200  # the response status
    code: str | None = None  # error code: in the body, or in the stream's last event
    served_by: str | None = None  # the model that answered (None: the one asked)
    calls: int = 1  # upstream calls the simulator logged
    fallback: str | None = None  # expected x-tokenwise-fallback
    long_prompt: bool = False


def retried_out(
    name: str,
    fault: dict[str, Any],
    *,
    stream: bool = False,
    status: int = 502,
    code: str | None = "upstream_error",
) -> Case:
    """sim-small failing all 3 tries before a byte reached the client: an error status."""
    return Case(name, "sim-small", stream=stream, fault=fault, status=status, code=code, calls=3)


def cut_stream(name: str, fault: dict[str, Any], code: str = "upstream_error") -> Case:
    """A stream failing after its first event, on its only try: 200, then an error event."""
    return Case(name, "sim-small", stream=True, fault=fault, code=code)


MATRIX = [
    Case(
        "connection refused",
        "ghost",
        served_by="sim-small",
        calls=4,  # 3 refused connections never reach the simulator; sim-broken 3 + sim-small 1
        fallback="from=ghost; reason=upstream_error; attempts=7",
    ),
    retried_out("reset mid-body", {"disconnect_after_chunks": 1}),
    cut_stream("reset mid-stream", {"disconnect_after_chunks": 3}),
    retried_out("reset before the first event", {"disconnect_after_chunks": 0}, stream=True),
    retried_out(
        "slow first byte past the deadline",
        {"slow_first_byte_ms": 5000},
        status=504,
        code="upstream_timeout",
    ),
    cut_stream(
        "idle stream past the idle timeout",
        {"idle_after_chunks": 2, "idle_ms": 3000},
        code="upstream_timeout",
    ),
    retried_out("malformed JSON", {"malformed_json": True}),
    cut_stream("malformed SSE", {"malformed_sse": True}),
    retried_out("200 with an error body", {"error_body_200": True}),
    retried_out("stream of one error event", {"error_body_200": True}, stream=True),
    cut_stream("no [DONE]", {"no_done": True}),
    Case("usage missing", "sim-small", fault={"no_usage": True}),
    Case("usage missing, streamed", "sim-small", stream=True, fault={"no_usage": True}),
    Case(
        "429 once", "sim-small", fault={"status": 429, "retry_after_s": 0, "fail_first": 1}, calls=2
    ),
    Case("503 twice", "sim-small", fault={"status": 503, "fail_first": 2}, calls=3),
    # the upstream's own error passes through, its null code too
    retried_out("503 always", {"status": 503, "message": "down for good"}, status=503, code=None),
    Case(
        "a 500 model falls back",
        "sim-broken",
        stream=True,
        served_by="sim-small",
        calls=4,
        fallback="from=sim-broken; reason=upstream_error; attempts=4",
    ),
    Case(
        "context window overflow",
        "sim-tiny",
        served_by="sim-small",
        calls=2,
        fallback="from=sim-tiny; reason=context_window; attempts=2",
        long_prompt=True,
    ),
]


def run_case(proxy: ServerThread, sim: ServerThread, case: Case, n: int) -> None:
    words = " ".join(["lorem"] * 120) if case.long_prompt else ""
    body: dict[str, Any] = {
        "model": case.model,
        "messages": ask(f"Reliability case {case.name} #{n}: what is 2 + 2? {words}"),
        "stream": case.stream,
    }
    if case.fault:
        body["sim"] = {"fault": case.fault}
    if case.stream:
        resp, events = stream_events(proxy, body)
    else:
        resp, events = post(proxy, body), []
    assert resp.status_code == case.status, resp.text
    request_id = resp.headers["x-request-id"]
    if case.status != 200:
        assert resp.json()["error"]["code"] == case.code
    elif case.stream:
        assert events[-1] == "[DONE]"  # every stream ends with it, a failed one too
        if case.code is not None:
            last = events[-2]
            assert isinstance(last, dict) and last["error"]["code"] == case.code
            assert any("choices" in e for e in events[:-2] if isinstance(e, dict))
    else:
        assert resp.json()["choices"][0]["message"]["content"]
    served = case.served_by or case.model
    assert resp.headers["x-tokenwise-model"] == served
    assert resp.headers.get("x-tokenwise-fallback") == case.fallback
    calls = upstream_calls(sim, request_id)
    assert len(calls) == case.calls, calls
    record = ledger_of(proxy, request_id)
    assert record.routed_model == served
    failed = case.status != 200 or case.code is not None
    outcome = (
        ("timeout" if case.code == "upstream_timeout" else "upstream_error") if failed else "ok"
    )
    assert record.status == outcome
    if case.status == 200:
        assert record.cost_total is not None and record.cost_total > 0  # the served model billed
    else:
        assert not record.cost_total  # nothing was served: nothing is billed


@pytest.mark.parametrize("case", MATRIX, ids=[c.name for c in MATRIX])
def test_matrix(proxy: ServerThread, faulty_sim: ServerThread, case: Case) -> None:
    run_case(proxy, faulty_sim, case, 0)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_matrix_leaves_nothing_behind(proxy: ServerThread, faulty_sim: ServerThread) -> None:
    """Run the whole matrix again: afterwards the proxy holds no task, connection or file
    descriptor more than before, and every reservation is settled."""
    services = services_of(proxy)
    connector = services.upstream._session.connector
    run_case(proxy, faulty_sim, MATRIX[-1], 1)  # warm the pools
    fds, tasks = open_fds(), len(proxy.tasks())
    for case in MATRIX:
        run_case(proxy, faulty_sim, case, 2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        settled = on_loop(proxy, services.store.spend("team:rel", time.time())).in_flight == 0
        idle = len(proxy.tasks()) <= tasks and not connector._acquired
        if settled and idle and open_fds() <= fds:
            break
        time.sleep(0.05)
    assert on_loop(proxy, services.store.spend("team:rel", time.time())).in_flight == Decimal(0)
    assert not connector._acquired, "an upstream connection was left checked out"
    assert len(proxy.tasks()) <= tasks, "a task outlived its request"
    assert open_fds() <= fds, "a file descriptor leaked"


def test_the_budget_counts_what_the_ledger_bills(proxy: ServerThread) -> None:
    """Reservations moved between models on fallback settle at the serving model's cost: the
    team's settled spend is the sum of its ledger records (rounded down to a micro-dollar)."""
    services = services_of(proxy)
    deadline = time.monotonic() + 10
    while True:
        on_loop(proxy, services.ledger.flush(2))
        view = on_loop(proxy, services.store.spend("team:rel", time.time()))
        records = on_loop(proxy, services.store.query_ledger(team="rel"))
        billed = usd(micros_down(sum((r.cost_total for r in records), Decimal(0))))
        if (view.in_flight == 0 and view.settled == billed) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert any(r.routed_model != r.requested_model for r in records)  # fallbacks were billed
    assert view.in_flight == 0
    assert view.settled == billed > 0


def test_sdk_sees_the_fallbacks_answer(proxy: ServerThread) -> None:
    sdk = openai.OpenAI(base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=KEY, max_retries=0)
    raw = sdk.chat.completions.with_raw_response.create(
        model="sim-broken",
        messages=ask("Name a river in Spain."),  # type: ignore[arg-type]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content
    assert raw.headers["x-tokenwise-model"] == "sim-small"
    assert raw.headers["x-tokenwise-fallback"].startswith("from=sim-broken; reason=upstream_error")
    assert raw.headers["x-tokenwise-cost-usd"]


def test_a_client_that_leaves_is_not_retried(proxy: ServerThread, faulty_sim: ServerThread) -> None:
    body = {
        "model": "sim-small",
        "messages": ask("A question nobody waits for."),
        "sim": {"fault": {"slow_first_byte_ms": 3000}},
    }
    before = len(sim_log(faulty_sim))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(chat_url(proxy), json=body, headers=AUTH, timeout=httpx.Timeout(30, read=0.3))
    time.sleep(2.5)  # the first try times out at 0.8 s; a retry would come right after
    log = sim_log(faulty_sim)
    assert len([e for e in log[before:] if "slow_first_byte_ms" in e["fault"]]) == 1


def test_past_max_in_flight_the_proxy_sheds(proxy: ServerThread) -> None:
    async def run() -> tuple[list[int], httpx.Response]:
        url = chat_url(proxy)
        slow = {
            "model": "sim-small",
            "messages": ask("Hold the line."),
            "stream": True,
            "sim": {"completion_tokens": 200, "inter_chunk_ms": 40},
        }
        async with httpx.AsyncClient(timeout=30, headers=AUTH) as http:
            held = []
            for _ in range(6):
                resp = await http.send(http.build_request("POST", url, json=slow), stream=True)
                held.append(resp)
            extra = await http.post(url, json={"model": "sim-small", "messages": ask("One more")})
            statuses = [r.status_code for r in held]
            for r in held:
                await r.aclose()
            return statuses, extra

    statuses, extra = asyncio.run(run())
    assert statuses == [200] * 6
    assert extra.status_code == 503
    assert extra.json()["error"]["code"] == "overloaded"
    assert extra.headers["retry-after"] == "1"
    assert "6 requests" in extra.json()["error"]["message"]


def test_breaker_opens_skips_probes_and_closes(faulty_sim: ServerThread, tmp_path: Path) -> None:
    """sim-down fails its first 5 calls for a prompt: 4 failures open its breaker, requests
    are then refused without reaching it, a failed probe opens it again, a good one closes it."""
    body = {"model": "sim-down", "messages": ask("Is the breaker working?")}
    with start_proxy(faulty_sim, tmp_path / "home", BREAKER) as proxy:
        base = f"http://127.0.0.1:{proxy.port}"

        def state() -> str:
            return str(httpx.get(f"{base}/readyz").json()["upstreams"]["sim-down"]["state"])

        def gauge() -> str:
            text = httpx.get(f"{base}/metrics").text
            name = 'tokenwise_breaker_state{upstream="sim-down"}'
            return next(x for x in text.splitlines() if x.startswith(name)).split()[-1]

        assert state() == "closed" and gauge() == "0.0"
        first = post(proxy, body)  # 3 failed tries
        assert first.status_code == 500 and first.headers["x-tokenwise-attempts"] == "3"
        second = post(proxy, body)  # the 4th failure opens it; no 5th try
        assert second.status_code == 500 and second.headers["x-tokenwise-attempts"] == "1"
        assert state() == "open" and gauge() == "2.0"
        refused = post(proxy, body)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "upstream_unavailable"
        assert int(refused.headers["retry-after"]) >= 1
        assert len([c for c in sim_log(faulty_sim) if c["model"] == "sim-down"]) == 4
        time.sleep(1.1)
        probe = post(proxy, body)  # the 5th call: fails, open again
        assert probe.status_code == 500 and state() == "open"
        time.sleep(1.1)
        healed = post(proxy, body)  # the 6th call answers: closed
        assert healed.status_code == 200, healed.text
        assert state() == "closed" and gauge() == "0.0"
        opened = [
            x
            for x in httpx.get(f"{base}/metrics").text.splitlines()
            if x.startswith('tokenwise_breaker_opened_total{upstream="sim-down"}')
        ]
        assert opened and opened[0].split()[-1] == "2.0"
