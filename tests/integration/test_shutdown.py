"""Graceful shutdown of a real `tokenwise serve`: SIGTERM while a stream is in flight.

The listening socket closes at once (new connections are refused), the stream runs to its end,
the process settles the stream's budget reservation, flushes its ledger record into the store
and exits 0.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from router.store.base import LedgerRecord, SpendView
from router.store.sqlite import SQLiteStore
from tests.integration.test_ledger import KEY, Proxy

MASTER = "tw-shutdown-master"
SLOW = {"sim": {"inter_chunk_ms": 150, "completion_tokens": 80, "tokens_per_chunk": 4}}


def refused(port: int, wait: float = 10.0) -> bool:
    """Whether connecting to the port is refused (within `wait`: the server notices the signal
    on its next tick)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def open_stream(
    proxy: Proxy, prompt: str, sim: dict[str, Any]
) -> tuple[str, Iterator[ChatCompletionChunk]]:
    """A streamed chat request through the SDK: its request id and its chunks, none read yet."""
    client = openai.OpenAI(base_url=f"{proxy.base}/v1", api_key=KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="sim-small",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        extra_body=sim,
    )
    return stream.response.headers["x-request-id"], iter(stream)


def test_sigterm_lets_the_stream_finish_settles_and_exits_0(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proxy = Proxy(home, env={"TOKENWISE_MASTER_KEY": MASTER})
    try:
        put = httpx.put(
            f"{proxy.base}/admin/budgets/team:dev",
            json={"limit_usd": "100", "window": "total"},
            headers={"authorization": f"Bearer {MASTER}"},
        )
        assert put.status_code == 200, put.text
        request_id, chunks = open_stream(proxy, "Tell me a long story.", SLOW)
        first = next(chunks)
        proxy.proc.send_signal(signal.SIGTERM)
        assert refused(proxy.port)  # no new connections, while the stream goes on
        rest = list(chunks)
        assert rest, "the stream ended before the signal: make it slower"
        text = "".join(c.choices[0].delta.content or "" for c in [first, *rest] if c.choices)
        assert text
        assert [c.choices[0].finish_reason for c in rest if c.choices][-1] == "stop"
        assert proxy.proc.wait(timeout=60) == 0, proxy.output()[-2000:]
    finally:
        proxy.stop()

    record, view = stored_after(home, request_id)
    assert record.status == "ok"
    assert record.cost_total > 0
    assert view.in_flight == 0  # no reservation left held
    assert abs(view.settled - record.cost_total) < Decimal("0.000001")  # to the micro-dollar
    # Flushed, not left for the next start to replay.
    assert all(not p.read_bytes().strip() for p in (home / "spool").glob("ledger-*.jsonl"))


async def read_store(home: Path) -> tuple[list[LedgerRecord], SpendView | None]:
    store = await SQLiteStore(home / "tokenwise.db").open()
    try:
        return await store.query_ledger(), await store.spend("team:dev", time.time())
    finally:
        await store.close()


def stored_after(home: Path, request_id: str) -> tuple[LedgerRecord, SpendView]:
    """Once the proxy has exited: the request's one ledger record and the team's spend."""
    records, view = asyncio.run(read_store(home))
    mine = [r for r in records if r.request_id == request_id]
    assert len(mine) == 1, mine
    assert view is not None
    return mine[0], view


def test_past_the_grace_period_requests_end_as_failures_settled_and_recorded(
    tmp_path: Path,
) -> None:
    """A stream still running ends with its error event (the SDK raises), a request still
    waiting for its upstream gets a 503 `overloaded` to retry; no plain-text 500, no cut."""
    config = tmp_path / "tokenwise.yaml"
    config.write_text(
        """
server:
  shutdown_grace_seconds: 0.5
providers:
  sim: {base_url: "builtin:simulator"}
models:
  sim-small: {provider: sim}
auth:
  keys:
    - {team: dev, name: dev, key_env: TW_SHUTDOWN_KEY}
budgets:
  limits:
    - {scope: "team:dev", limit_usd: 100, window: total}
""",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    proxy = Proxy(home, "--config", str(config), env={"TW_SHUTDOWN_KEY": KEY})
    endless = {"sim": {"inter_chunk_ms": 500, "completion_tokens": 4000, "tokens_per_chunk": 4}}
    waiting: dict[str, Any] = {}

    def ask_a_slow_upstream() -> None:  # no first byte before the grace period ends
        try:
            client = openai.OpenAI(base_url=f"{proxy.base}/v1", api_key=KEY, max_retries=0)
            client.chat.completions.create(
                model="sim-small",
                messages=[{"role": "user", "content": "Take your time."}],
                extra_body={"sim": {"fault": {"slow_first_byte_ms": 30000}}},
            )
        except openai.APIStatusError as exc:
            waiting["error"] = exc

    try:
        request_id, chunks = open_stream(proxy, "Count to a million.", endless)
        next(chunks)
        asker = threading.Thread(target=ask_a_slow_upstream)
        asker.start()
        time.sleep(0.5)  # the second request is in flight
        proxy.proc.send_signal(signal.SIGTERM)
        finishes = []
        with pytest.raises(openai.APIError, match="shutting down"):  # the stream's error event
            finishes.extend(c.choices[0].finish_reason for c in chunks if c.choices)
        assert "stop" not in finishes  # cut short: 1,000 chunks would take minutes
        asker.join(timeout=30)
        error = waiting["error"]
        assert error.status_code == 503 and error.response.headers["retry-after"] == "1"
        assert error.body["code"] == "overloaded" and "grace period" in error.body["message"]
        assert proxy.proc.wait(timeout=60) == 0, proxy.output()[-2000:]
    finally:
        proxy.stop()
    assert "Exception in ASGI application" not in proxy.output()
    record, view = stored_after(home, request_id)
    assert record.status == "cancelled"
    assert view.in_flight == 0


def test_a_second_signal_stops_at_once_and_says_what_waits_for_the_next_start(
    tmp_path: Path,
) -> None:
    """SIGTERM, then SIGINT while a stream still runs: uvicorn stops at once, without the
    shutdown. Nothing is lost (the spool and the journal are on disk, replayed at the next
    start) and the process says so, without tracebacks of the tasks it cancelled."""
    home = tmp_path / "home"
    proxy = Proxy(home)
    endless = {"sim": {"inter_chunk_ms": 500, "completion_tokens": 4000, "tokens_per_chunk": 4}}
    try:
        request_id, chunks = open_stream(proxy, "Count to a million.", endless)
        next(chunks)
        proxy.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        proxy.proc.send_signal(signal.SIGINT)
        proxy.proc.wait(timeout=60)
    finally:
        proxy.stop()
    output = proxy.output()
    assert "stopped before the shutdown finished (a second signal)" in output, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    again = Proxy(home)  # the next start replays what waited
    again.stop()
    records, _ = asyncio.run(read_store(home))
    assert [r.status for r in records if r.request_id == request_id] == ["cancelled"]
