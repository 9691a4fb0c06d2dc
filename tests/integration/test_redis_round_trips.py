"""Shared state costs at most two Redis round trips per request: one to reserve, one to settle,
with one proxy and with two replicas sharing the Redis.

A proxy with every feature on (a team key, `auto` routed by the classifier, a hard team budget
and key rate limits, metering, the ledger) keeps its state in a private redis-server; the test
counts, on the server, the round trips (`total_reads_processed`) and script calls
(`cmdstat_evalsha`) a fixed number of requests cost, the OpenAI SDK as the client. Ledger
records go in batches, one script call each, sent with a settlement or alone (in this slow,
sequential traffic, mostly alone), so each batch costs at most one round trip; a connection the
client's pool opens meanwhile costs its handshake (HELLO, CLIENT SETINFO: measured here with the
same client library). The hot path is what is left once those are taken off: at most two per
request, with non-streaming and streaming requests alike (a little less when the server reads
two connections' commands in one event).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import redis
import redis.asyncio as aioredis

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from tests.integration.configs import sim_models, write_config
from tests.integration.served import on_loop
from tests.redis_server import start as start_redis

KEY = "tw-round-trip-key"
ASK = [{"role": "user", "content": "Name three rivers of Europe."}]


def config(sim: ServerThread, redis_url: str) -> str:
    return f"""
store: {{url: "{redis_url}"}}
{sim_models(sim.port, default_model=None)}
auth:
  cache_seconds: 60
  keys:
    - {{team: research, key_env: RT_KEY, name: research-ci, rpm: 100000, tpm: 100000000}}
budgets:
  expire_every_seconds: 3600
  refresh_seconds: 60
  limits:
    - {{scope: "team:research", limit_usd: "1000", window: month}}
"""


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, redis.Redis]]:
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is not on PATH"
    proc, port = start_redis(exe, tmp_path)
    counter = redis.Redis(host="127.0.0.1", port=port)
    counter.ping()
    try:
        yield f"redis://127.0.0.1:{port}/0", counter
    finally:
        counter.close()
        proc.kill()
        proc.wait()


def counts(counter: redis.Redis) -> tuple[int, int, int]:
    """(round trips, script calls, connections) so far; the INFO call is one round trip."""
    info: dict[str, Any] = counter.info("all")
    scripts = int(info.get("cmdstat_evalsha", {}).get("calls", 0))
    return int(info["total_reads_processed"]), scripts, int(info["total_connections_received"])


def handshake_reads(url: str, counter: redis.Redis) -> int:
    """Round trips the asyncio client spends opening a connection (its PING taken off)."""

    async def connect() -> None:
        client = aioredis.Redis.from_url(url, decode_responses=True)
        await client.ping()
        await client.aclose()

    before = counts(counter)[0]
    asyncio.run(connect())
    return counts(counter)[0] - before - 1 - 1  # the INFO, the PING


def quiet(proxy: ServerThread) -> None:
    """Wait until every settlement has landed and every ledger record is in the store."""
    services = proxy.server.config.app.state.services
    deadline = time.monotonic() + 10
    while services.budget.settler.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    assert services.budget.settler.in_flight == 0
    assert on_loop(proxy, services.ledger.flush(5))


def replica(sim: ServerThread, home: Path, redis_url: str) -> Any:
    path = write_config(home, config(sim, redis_url))
    env = {**os.environ, "TOKENWISE_HOME": str(home), "RT_KEY": KEY}
    return create_app(load_settings(str(path), env=env))


def ask(proxies: list[ServerThread], stream: bool, n: int) -> None:
    """n requests through the OpenAI SDK, taking the replicas in turn."""
    clients = [
        openai.OpenAI(base_url=f"http://127.0.0.1:{p.port}/v1", api_key=KEY) for p in proxies
    ]
    try:
        for i in range(n):
            sdk = clients[i % len(clients)]
            if stream:
                chunks = sdk.chat.completions.create(
                    model="auto", messages=ASK, seed=i, stream=True
                )
                assert any(c.choices and c.choices[0].delta.content for c in chunks)
            else:
                reply = sdk.chat.completions.create(model="auto", messages=ASK, seed=i)
                assert reply.choices[0].message.content
    finally:
        for sdk in clients:
            sdk.close()


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_request_costs_at_most_two_round_trips_one_reserve_one_settle(
    sim: ServerThread, tmp_path: Path, private_redis: tuple[str, redis.Redis], replicas: int
) -> None:
    url, counter = private_redis
    handshake = handshake_reads(url, counter)
    apps = [replica(sim, tmp_path / f"home-{i}", url) for i in range(replicas)]
    with contextlib.ExitStack() as stack:
        proxies = [stack.enter_context(serving(app)) for app in apps]
        for _ in proxies:  # warm-up: the key, the budget records, the scripts, on each
            ask(proxies, False, replicas)
        ask(proxies, True, replicas)
        for proxy in proxies:
            quiet(proxy)
        reads_before, scripts_before, connections_before = counts(counter)
        n = 12
        ask(proxies, False, n)
        ask(proxies, True, n)
        for proxy in proxies:
            quiet(proxy)
        reads_after, scripts_after, connections_after = counts(counter)
        records = on_loop(proxies[0], apps[0].state.services.store.query_ledger(team="research"))

    requests = 2 * n
    reads = reads_after - reads_before - 1  # the second INFO
    ledger_batches = scripts_after - scripts_before - 2 * requests
    opened = connections_after - connections_before
    assert len(records) == requests + replicas * (replicas + 1)  # every request, one record
    assert 1 <= ledger_batches <= requests
    hot_path = reads - ledger_batches - opened * handshake
    assert hot_path <= 2 * requests  # reserve, settle; a third lookup would add `requests`
    assert hot_path > requests
