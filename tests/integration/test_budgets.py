"""Budgets, rate limits and keys through a real proxy (uvicorn on loopback) in front of the
simulator, with the official OpenAI SDK where a client is needed.

The store is the embedded default (SQLite under the test's home) unless a test needs Redis (a
private redis-server, paused with SIGSTOP to play an unreachable store).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router.app import create_app
from router.classify.model import load_classifier
from router.config.load import ConfigError, load_settings
from router.localserver import ServerThread, serving
from router.policy.router import Router
from router.store.base import LedgerRecord, Store
from router.store.rules import micros_down, usd
from tests.integration.configs import sim_models, write_config
from tests.integration.served import on_loop
from tests.redis_server import start as start_redis

D = Decimal
MASTER = "tw-budgets-master"
KEYS = {"research": "tw-research-key", "ops": "tw-ops-key", "narrow": "tw-narrow-key"}
ASK = [{"role": "user", "content": "Name three rivers of Europe."}]


def config(sim: ServerThread, extra: str = "", store: str = "") -> str:
    return f"""
{sim_models(sim.port)}
{store}
auth:
  cache_seconds: 1
  keys:
    - {{team: research, key_env: RESEARCH_KEY, name: research-ci}}
    - {{team: ops, key_env: OPS_KEY, name: ops-bot}}
    - {{team: ops, key_env: NARROW_KEY, name: narrow, models: [sim-small], rpm: 3}}
{extra}
"""


def proxy_app(home: Path, text: str) -> Any:
    path = write_config(home, text)
    env = {
        "TOKENWISE_HOME": str(home),
        "TOKENWISE_MASTER_KEY": MASTER,
        "RESEARCH_KEY": KEYS["research"],
        "OPS_KEY": KEYS["ops"],
        "NARROW_KEY": KEYS["narrow"],
    }
    return create_app(load_settings(str(path), env=env))


def store_of(proxy: ServerThread) -> Store:
    store: Store = proxy.server.config.app.state.services.store
    return store


def client(proxy: ServerThread, team: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=KEYS[team], max_retries=0
    )


def ledger(proxy: ServerThread, team: str, n: int) -> list[LedgerRecord]:
    services = proxy.server.config.app.state.services
    deadline = time.monotonic() + 10
    while True:
        on_loop(proxy, services.ledger.flush(2))
        records: list[LedgerRecord] = on_loop(proxy, services.store.query_ledger(team=team))
        if len(records) >= n or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def counted(records: list[LedgerRecord]) -> Decimal:
    """What the counters hold for these records (one key's): their summed cost, rounded down to
    the micro-dollar (router.budget.carry)."""
    return usd(micros_down(sum((r.cost_total for r in records), D(0))))


@pytest.fixture
def research_budget(sim: ServerThread, tmp_path: Path) -> Iterator[ServerThread]:
    limits = "budgets:\n  limits: [{scope: 'team:research', limit_usd: '0.0005', window: day}]"
    with serving(proxy_app(tmp_path / "home", config(sim, limits))) as proxy:
        yield proxy


def test_output_is_clamped_to_what_is_left_then_the_request_is_refused(
    research_budget: ServerThread,
) -> None:
    proxy = research_budget
    served, clamps = 0, []
    with client(proxy, "research") as sdk:
        for i in range(100):
            try:
                raw = sdk.chat.completions.with_raw_response.create(
                    model="sim-small",
                    messages=ASK,
                    max_tokens=800,
                    seed=i,
                    extra_body={"sim": {"completion_tokens": 120}},
                )
            except openai.RateLimitError as exc:
                error = exc.body
                assert isinstance(error, dict)
                assert error["code"] == "budget_exceeded"
                detail = error["budget"]
                assert detail["scope"] == "team:research" and detail["in_flight_usd"] == "0"
                assert D(detail["settled_usd"]) + D(detail["requested_usd"]) > D("0.0005")
                assert "nothing in flight" in error["message"]
                assert "resets at" in error["message"]
                assert exc.response.headers["x-should-retry"] == "false"
                break
            served += 1
            answer = raw.parse()
            note = raw.headers.get("x-tokenwise-budget")
            if note is not None:
                assert note.startswith("clamped=max_tokens:")
                limit = int(note.rsplit(":", 1)[1])
                clamps.append(limit)
                assert answer.usage is not None and answer.usage.completion_tokens <= limit
        else:
            pytest.fail("the budget never ran out")
    assert clamps and clamps == sorted(clamps, reverse=True)
    records = ledger(proxy, "research", served)
    assert len(records) == served
    spent = sum((r.cost_total for r in records), D(0))
    assert spent <= D("0.0005")
    view = on_loop(proxy, store_of(proxy).spend("team:research", time.time()))
    assert view.in_flight == 0 and view.settled == counted(records)


def test_rate_limits_count_in_the_same_step_and_answer_openai_headers(
    research_budget: ServerThread,
) -> None:
    with client(research_budget, "narrow") as sdk:
        remaining = []
        for i in range(3):
            raw = sdk.chat.completions.with_raw_response.create(
                model="sim-small", messages=ASK, seed=i
            )
            assert raw.headers["x-ratelimit-limit-requests"] == "3"
            remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
            reset = raw.headers["x-ratelimit-reset-requests"]
            assert reset.endswith("s")
        assert remaining == [2, 1, 0]
        with pytest.raises(openai.RateLimitError) as limited:
            sdk.chat.completions.create(model="sim-small", messages=ASK)
    error = limited.value
    assert isinstance(error.body, dict) and error.body["code"] == "rate_limit_exceeded"
    assert "key:narrow on requests per minute: limit 3, used 3" in error.body["message"]
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(error.response.headers["retry-after"]) >= 1


def test_allow_list_expiry_and_revocation(research_budget: ServerThread, tmp_path: Path) -> None:
    proxy = research_budget
    admin = httpx.Client(
        base_url=f"http://127.0.0.1:{proxy.port}", headers={"authorization": f"Bearer {MASTER}"}
    )
    with client(proxy, "narrow") as sdk:
        with pytest.raises(openai.PermissionDeniedError) as denied:
            sdk.chat.completions.create(model="sim-mini-reasoner", messages=ASK)
        assert isinstance(denied.value.body, dict)
        assert denied.value.body["code"] == "model_not_allowed"
    made = admin.post("/admin/keys", json={"team": "research", "name": "temp"}).json()
    short = admin.post(
        "/admin/keys", json={"team": "research", "expires_at": time.time() + 1}
    ).json()
    base = f"http://127.0.0.1:{proxy.port}/v1"
    for secret in (made["key"], short["key"]):
        with openai.OpenAI(base_url=base, api_key=secret, max_retries=0) as sdk:
            assert sdk.models.list().data  # a key from the store works at once, on every route
    assert admin.post(f"/admin/keys/{made['key_id']}/revoke").json()["revoked"] is True
    time.sleep(1.1)
    for secret, why in ((made["key"], "revoked"), (short["key"], "expired")):
        with (
            openai.OpenAI(base_url=base, api_key=secret, max_retries=0) as sdk,
            pytest.raises(openai.AuthenticationError, match=why),
        ):
            sdk.chat.completions.create(model="sim-small", messages=ASK)
    # Revoked by another replica (straight in the store): refused within auth.cache_seconds.
    third = admin.post("/admin/keys", json={"team": "research"}).json()
    with openai.OpenAI(base_url=base, api_key=third["key"], max_retries=0) as sdk:
        sdk.chat.completions.create(model="sim-small", messages=ASK)
        on_loop(proxy, store_of(proxy).revoke_key(third["key_id"]))
        revoked_at = time.monotonic()
        while True:
            try:
                sdk.chat.completions.create(model="sim-small", messages=ASK)
            except openai.AuthenticationError:
                break
            assert time.monotonic() - revoked_at < 2.0
            time.sleep(0.05)
    admin.close()


def test_the_user_field_is_kept_in_the_ledger(research_budget: ServerThread) -> None:
    with client(research_budget, "ops") as sdk:
        sdk.chat.completions.create(model="sim-small", messages=ASK, user="alice@example.com")
    records = ledger(research_budget, "ops", 1)
    assert [(r.user, r.key_id) for r in records] == [("alice@example.com", "ops-bot")]


def test_a_stream_the_client_leaves_settles_at_what_was_metered(
    research_budget: ServerThread,
) -> None:
    proxy = research_budget
    url = f"http://127.0.0.1:{proxy.port}/v1/chat/completions"
    body = {
        "model": "sim-small",
        "messages": ASK,
        "stream": True,
        "max_tokens": 300,
        "sim": {"completion_tokens": 300, "inter_chunk_ms": 20},
    }
    headers = {"authorization": f"Bearer {KEYS['research']}"}
    with httpx.stream("POST", url, json=body, headers=headers, timeout=10) as resp:
        assert resp.status_code == 200
        for _ in resp.iter_raw():
            break  # leave after the first chunk
    records = ledger(proxy, "research", 1)
    assert len(records) == 1 and records[0].status == "cancelled"
    deadline = time.monotonic() + 5
    while True:
        view = on_loop(proxy, store_of(proxy).spend("team:research", time.time()))
        if view.in_flight == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert view.in_flight == 0
    assert view.settled == counted(records)
    assert 0 < records[0].cost_total < D("0.00012")  # billed for what was sent, not 300 tokens


class Hooks:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def hook(self, request: Request) -> Response:
        self.received.append(await request.json())
        return Response(status_code=204)


def test_a_soft_budget_switches_policy_caps_effort_and_calls_the_webhook(
    sim: ServerThread, tmp_path: Path
) -> None:
    hooks = Hooks()
    receiver = Starlette(routes=[Route("/hook", hooks.hook, methods=["POST"])])
    with serving(receiver) as webhook:
        limits = f"""budgets:
  refresh_seconds: 0.1
  webhook_url: http://127.0.0.1:{webhook.port}/hook
  limits:
    - {{scope: "team:ops", limit_usd: "0.0004", hard: false, soft_threshold: 0.5,
       soft_policy: economy}}
"""
        with (
            serving(proxy_app(tmp_path / "home", config(sim, limits))) as proxy,
            client(proxy, "ops") as sdk,
        ):
            notes: list[str | None] = []
            efforts_shown: list[str] = []
            for i in range(6):
                raw = sdk.chat.completions.with_raw_response.create(
                    model="sim-mini-reasoner",
                    messages=ASK,
                    reasoning_effort="high",
                    seed=i,
                    extra_body={"sim": {"completion_tokens": 20}},
                )
                notes.append(raw.headers.get("x-tokenwise-budget"))
                efforts_shown.append(raw.headers.get("x-tokenwise-effort", ""))
                time.sleep(0.15)
            records = ledger(proxy, "ops", 6)
            routed = sdk.chat.completions.with_raw_response.create(
                model="auto", messages=ASK, reasoning_effort="high"
            )
            deadline = time.monotonic() + 5
            while not hooks.received and time.monotonic() < deadline:
                time.sleep(0.05)
    route = routed.headers["x-tokenwise-route"]  # the budget lowered the client's effort
    assert "effort=low" in route and "capped" in route, route
    assert "set by the client" not in route, route
    assert notes[0] is None  # nothing spent yet
    switched = [n for n in notes if n]
    assert switched and all(
        n.startswith("state=soft; scope=team:ops;") and "policy=economy; effort_cap=low" in n
        for n in switched
    )
    efforts = [r.effort for r in sorted(records, key=lambda r: r.ts)]
    assert efforts[-1] == "low"
    # the client asked for high throughout; what was sent is the cap
    assert efforts_shown[-1].startswith("requested=high; sent=low"), efforts_shown
    assert len(hooks.received) == 1  # once per window
    hook = hooks.received[0]
    assert hook["event"] == "budget.soft_threshold" and hook["scope"] == "team:ops"
    assert hook["policy"] == "economy" and hook["threshold"] == "0.5"


def test_a_soft_threshold_crossed_by_this_process_switches_the_next_request(
    sim: ServerThread, tmp_path: Path
) -> None:
    """The spend views are cached for a minute here, yet this process's own settlements count
    at once: the first request after the threshold is crossed is switched."""
    limits = """budgets:
  refresh_seconds: 60
  limits:
    - {scope: "team:ops", limit_usd: "0.0004", hard: false, soft_threshold: 0.5,
       soft_policy: economy}
"""
    with (
        serving(proxy_app(tmp_path / "home", config(sim, limits))) as proxy,
        client(proxy, "ops") as sdk,
    ):
        spent = D(0)
        switched: list[tuple[D, bool]] = []
        for i in range(8):
            raw = sdk.chat.completions.with_raw_response.create(
                model="sim-mini-reasoner",
                messages=ASK,
                seed=i,
                extra_body={"sim": {"completion_tokens": 20}},
            )
            switched.append((spent, raw.headers.get("x-tokenwise-budget") is not None))
            spent += D(raw.headers["x-tokenwise-cost-usd"])
    threshold = D("0.0002")
    assert any(before >= threshold for before, _ in switched), switched  # it was crossed
    for before, on in switched:
        assert on == (before >= threshold), switched


@pytest.fixture
def paused_redis(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A private redis-server, and a function that pauses (SIGSTOP) or resumes it."""
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is not on PATH"
    proc, port = start_redis(exe, tmp_path)

    def pause(stopped: bool) -> None:
        os.kill(proc.pid, signal.SIGSTOP if stopped else signal.SIGCONT)

    yield f"redis://127.0.0.1:{port}/0", pause
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.wait()


def test_an_unreachable_store_fails_closed_by_default_or_open_and_reconciles(
    sim: ServerThread, tmp_path: Path, paused_redis: tuple[str, Any]
) -> None:
    url, pause = paused_redis
    store = f"store: {{url: '{url}'}}"
    limits = """  store_timeout_seconds: 0.3
  expire_every_seconds: 0.2
  limits: [{scope: "team:research", limit_usd: 1, window: day}]"""
    closed = config(sim, "budgets:\n" + limits, store)
    opened = config(sim, "budgets:\n  on_store_error: fail_open\n" + limits, store)
    with (
        serving(proxy_app(tmp_path / "closed", closed)) as strict,
        serving(proxy_app(tmp_path / "open", opened)) as lenient,
        client(strict, "research") as a,
        client(lenient, "research") as b,
    ):
        a.chat.completions.create(model="sim-small", messages=ASK, max_tokens=50)
        b.chat.completions.create(model="sim-small", messages=ASK, max_tokens=50)
        pause(True)
        try:
            with pytest.raises(openai.InternalServerError) as refused:
                a.chat.completions.create(model="sim-small", messages=ASK, max_tokens=50)
            assert refused.value.status_code == 503
            assert isinstance(refused.value.body, dict)
            assert refused.value.body["code"] == "overloaded"
            assert "fail_closed" in refused.value.body["message"]
            answer = b.chat.completions.create(model="sim-small", messages=ASK, max_tokens=50)
            assert answer.usage is not None
            ready = httpx.get(f"http://127.0.0.1:{strict.port}/readyz", timeout=5)
            assert ready.status_code == 200  # still serving what needs no budget
            assert ready.json()["store"] == {"reachable": False, "error": "TimeoutError"}
        finally:
            pause(False)
        ready = httpx.get(f"http://127.0.0.1:{strict.port}/readyz", timeout=5).json()
        assert ready["store"]["reachable"] is True and ready["store"]["ms"] >= 0
        assert set(ready["backlog"]) == {"ledger_records", "pending_settles"}
        records = ledger(lenient, "research", 3)
        assert len(records) == 3  # the first two, and the one served through the outage
        deadline = time.monotonic() + 10
        # two proxies, each carrying its own remainder under a micro-dollar
        close = D("0.000002")
        while True:
            view = on_loop(lenient, store_of(lenient).spend("team:research", time.time()))
            if 0 <= counted(records) - view.settled < close or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert view.in_flight == 0
        assert 0 <= counted(records) - view.settled < close  # the outage's spend reconciled


@pytest.mark.parametrize(
    "given",
    [
        ["A long paragraph about the rivers of Europe and the towns along them. " * 60],
        [list(range(1000, 1900))],  # token ids: counted by their number, as an upstream bills
    ],
    ids=["text", "token-ids"],
)
def test_embeddings_reserve_settle_and_are_refused_past_the_budget(
    research_budget: ServerThread, given: list[Any]
) -> None:
    proxy = research_budget
    served = 0
    with client(proxy, "research") as sdk:
        for _ in range(200):
            try:
                raw = sdk.embeddings.with_raw_response.create(model="sim-small", input=given)
            except openai.RateLimitError as exc:
                error = exc.body
                assert isinstance(error, dict) and error["code"] == "budget_exceeded"
                assert error["budget"]["scope"] == "team:research"
                break
            served += 1
            assert raw.parse().data and "x-tokenwise-budget" not in raw.headers
        else:
            pytest.fail("embeddings never ran into the budget")
    records = ledger(proxy, "research", served)
    assert len(records) == served and {r.endpoint for r in records} == {"embeddings"}
    assert sum((r.cost_total for r in records), D(0)) <= D("0.0005")
    view = on_loop(proxy, store_of(proxy).spend("team:research", time.time()))
    assert view.in_flight == 0 and view.settled == counted(records)


def test_images_are_reserved_for_though_not_decoded(research_budget: ServerThread) -> None:
    """Image parts cost input tokens the text does not show; the estimate counts each image
    (at OpenAI's most for one image), so a hard budget is never overspent by pictures."""
    url = "data:image/png;base64," + "A" * 64
    high = {"type": "image_url", "image_url": {"url": url}}
    low = {"type": "image_url", "image_url": {"url": url, "detail": "low"}}
    content = [{"type": "text", "text": "Describe these."}, high, low, low]
    served = 0
    with client(research_budget, "research") as sdk:
        for _ in range(200):
            try:
                answer = sdk.chat.completions.create(
                    model="sim-small",
                    messages=[{"role": "user", "content": content}],
                    max_tokens=16,
                )
            except openai.RateLimitError as exc:
                assert isinstance(exc.body, dict) and exc.body["code"] == "budget_exceeded"
                break
            assert answer.usage is not None and answer.usage.prompt_tokens > 765 + 2 * 85
            served += 1
        else:
            pytest.fail("the budget never ran out")
    records = ledger(research_budget, "research", served)
    assert served > 0 and len(records) == served
    assert sum((r.cost_total for r in records), D(0)) <= D("0.0005")


def test_a_key_confined_to_its_models_cannot_embed_with_another(
    research_budget: ServerThread,
) -> None:
    with (
        client(research_budget, "narrow") as sdk,
        pytest.raises(openai.PermissionDeniedError) as caught,
    ):
        sdk.embeddings.create(model="sim-mini-reasoner", input="hello")
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "model_not_allowed"
    assert "sim-small" in error["message"]


def test_auto_chooses_among_the_models_a_key_may_use(research_budget: ServerThread) -> None:
    math = [{"role": "user", "content": "Prove that the square root of 2 is irrational."}]
    moderate = {"x-tokenwise-route": "tier=moderate"}
    with client(research_budget, "ops") as sdk:  # no allow-list: the policy's own choice
        free = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=math, extra_headers=moderate
        )
    assert free.headers["x-tokenwise-model"] != "sim-small"
    with client(research_budget, "narrow") as sdk:  # allowed: sim-small only
        narrow = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=math, extra_headers=moderate
        )
        assert narrow.headers["x-tokenwise-model"] == "sim-small"
        assert narrow.parse().choices[0].message.content
        with pytest.raises(openai.PermissionDeniedError) as denied:  # no hard candidate is
            sdk.chat.completions.create(  # allowed: refused, naming the key's models
                model="auto", messages=math, extra_headers={"x-tokenwise-route": "tier=hard"}
            )
    error = denied.value.body
    assert isinstance(error, dict) and error["code"] == "model_not_allowed"
    assert "sim-small" in error["message"]


def test_a_teams_policy_routes_its_auto_requests(sim: ServerThread, tmp_path: Path) -> None:
    teams = "  teams: [{name: research, policy: quality}]"
    with serving(proxy_app(tmp_path / "home", config(sim, teams))) as proxy:
        routes: dict[str, str] = {}
        for team, model, header in (
            ("research", "auto", None),
            ("ops", "auto", None),
            ("research", "auto-economy", None),
            ("research", "auto", "policy=economy"),
        ):
            with client(proxy, team) as sdk:
                raw = sdk.chat.completions.with_raw_response.create(
                    model=model,
                    messages=ASK,
                    extra_headers={"x-tokenwise-route": header} if header else None,
                )
            route = dict(
                item.split("=", 1) for item in raw.headers["x-tokenwise-route"].split("; ")
            )
            routes[f"{team} {model} {header}"] = route["reason"]
        metrics = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics").text
        admin = {"Authorization": f"Bearer {MASTER}"}
        base = f"http://127.0.0.1:{proxy.port}/admin/teams"
        refused = httpx.post(base, headers=admin, json={"name": "ops", "policy": "lavish"})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "policy"
        moved = httpx.post(base, headers=admin, json={"name": "ops", "policy": "economy"})
        assert moved.status_code == 200 and moved.json()["policy"] == "economy"
        time.sleep(1.1)  # auth.cache_seconds: the key's cached principal expires
        with client(proxy, "ops") as sdk:
            raw = sdk.chat.completions.with_raw_response.create(model="auto", messages=ASK)
        assert raw.headers["x-tokenwise-route"].endswith(", team policy economy")
    assert routes["research auto None"].endswith(", team policy quality")
    assert "team policy" not in routes["ops auto None"]
    assert "team policy" not in routes["research auto-economy None"]
    assert "team policy" not in routes["research auto policy=economy"]
    decided = [
        line
        for line in metrics.splitlines()
        if line.startswith("tokenwise_routing_decisions_total")
    ]
    assert sum('policy="quality"' in line for line in decided) == 1
    assert sum('policy="economy"' in line for line in decided) >= 1


def test_a_team_or_soft_budget_naming_an_unknown_policy_stops_start_up(
    sim: ServerThread, tmp_path: Path
) -> None:

    for extra, where in (
        ("  teams: [{name: research, policy: lavish}]", "auth.teams.0.policy"),
        (
            "budgets:\n  limits: [{scope: 'team:ops', limit_usd: 1, hard: false,"
            " soft_policy: lavish}]",
            "budgets.limits.0.soft_policy",
        ),
    ):
        path = write_config(tmp_path / where, config(sim, extra))
        env = {"OPS_KEY": KEYS["ops"], "RESEARCH_KEY": KEYS["research"], "NARROW_KEY": "n"}
        settings = load_settings(str(path), env=env)
        with pytest.raises(ConfigError, match=f"{where}: no policy named 'lavish'"):
            Router.from_settings(settings, load_classifier())
