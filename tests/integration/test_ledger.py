"""The ledger never loses a record: not to a process killed before the store write, not to a
store outage. Records are answered first, spooled on disk, and stored when the store can take
them (replayed at the next start when the process died)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from router.app import create_app
from router.config.load import load_settings
from router.config.schema import Store as StoreSection
from router.ledger.spool import read_records
from router.localserver import serving
from router.store.base import LedgerRecord
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore
from tests.processes import free_port, stop_process
from tests.redis_server import answers_ping

KEY = "tw-ledger-test-key"
AUTH = {"authorization": f"Bearer {KEY}"}
ASK = [{"role": "user", "content": "What is the capital of Australia?"}]
READY_TIMEOUT = 30.0
REFUSE_LEDGER_WRITES = """
CREATE TRIGGER refuse_ledger_writes BEFORE INSERT ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger writes refused by the test'); END
"""


def spooled_ids(home: Path) -> set[str]:
    ids: set[str] = set()
    for path in (home / "spool").glob("ledger-*.jsonl"):
        records, _ = read_records(path)
        ids.update(r.request_id for r in records)
    return ids


def all_spooled(home: Path, ids: set[str], wait: float = 5.0) -> bool:
    """Whether every id reaches the spool (a stream is recorded as it closes, just after the
    client has read its last byte)."""
    deadline = time.monotonic() + wait
    while not ids <= spooled_ids(home):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def send(base: str, n: int, stream_every: int = 3) -> dict[str, Decimal | None]:
    """n requests (some streamed), each answered; request id -> cost header (None: streamed)."""
    answered: dict[str, Decimal | None] = {}
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as http:
        for i in range(n):
            stream = i % stream_every == stream_every - 1
            body = {"model": "sim-small", "messages": ASK, "stream": stream, "seed": i}
            resp = http.post("/v1/chat/completions", json=body)
            assert resp.status_code == 200, resp.text
            if stream:
                assert resp.text.rstrip().endswith("data: [DONE]")
                answered[resp.headers["x-request-id"]] = None
            else:
                answered[resp.headers["x-request-id"]] = Decimal(
                    resp.headers["x-tokenwise-cost-usd"]
                )
    return answered


def check_ledger(records: list[LedgerRecord], answered: dict[str, Decimal | None]) -> None:
    """Every answered request exactly once, with the cost its response announced."""
    ids = [r.request_id for r in records if r.request_id in answered]
    assert sorted(ids) == sorted(answered)  # each one, once
    for record in records:
        if record.request_id in answered:
            assert record.cost_total > 0
            expected = answered[record.request_id]
            if expected is not None:
                assert record.cost_total == expected


# Killed between the response and the store write


class Proxy:
    """`python -m router serve` in a subprocess (the embedded default: SQLite under home)."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.key = KEY
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
        environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        environ.update(TOKENWISE_HOME=str(home), TOKENWISE_DEV_KEY=KEY, **(env or {}))
        self.log_path = home / f"serve-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "router", "serve", "--port", str(self.port), *args],
            cwd=home,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"tokenwise serve did not become ready:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_process(self.proc, timeout=15)
        self.log.close()


async def test_records_survive_kill_before_store_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = home / "tokenwise.db"
    first = Proxy(home)
    # From here the store refuses every ledger write (a trigger aborts the insert), while the
    # rest of the store (keys, budgets) keeps working: the proxy answers, its writer retries.
    # (Holding SQLite's write lock instead would also stall the budget reservations that sit on
    # the request path.)
    admin = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        admin.execute(REFUSE_LEDGER_WRITES)
        answered = await asyncio.to_thread(send, first.base, 6)
        wanted = list(answered)
        (count,) = admin.execute(
            f"SELECT COUNT(*) FROM ledger WHERE request_id IN ({','.join('?' * len(wanted))})",
            wanted,
        ).fetchone()
        assert count == 0  # answered, not stored
        assert all_spooled(home, set(answered))  # but on disk
        first.kill()
        admin.execute("DROP TRIGGER refuse_ledger_writes")
    finally:
        admin.close()
        first.stop()
    assert "ledger: store write failed" in first.output()

    second = Proxy(home)  # replays the dead process's spool at start-up
    try:
        store = await SQLiteStore(db).open()
        try:
            records = await store.query_ledger()
        finally:
            await store.close()
        check_ledger(records, answered)
        assert not spooled_ids(home) & set(answered)  # the replayed spool is gone
    finally:
        second.stop()


# A store outage: spooled, then written


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not on PATH: run scripts/setup (the Redis tests never skip)")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not answers_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"redis-server did not start on port {port}")
        time.sleep(0.02)
    return proc


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    port = free_port()
    procs = [start_redis(port, tmp_path)]
    try:
        yield port, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop_redis(proc)


def redis_app(home: Path, port: int) -> FastAPI:
    """The embedded default with its store section pointing at the test's redis-server."""
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": KEY}
    settings = load_settings(None, env=env, cwd=home)
    store = StoreSection(url=f"redis://127.0.0.1:{port}/0")
    # Budgets answer during a store outage here (their default refuses what it cannot account
    # for); what is under test is the ledger, which is off the response path either way.
    budgets = settings.config.budgets.model_copy(update={"on_store_error": "fail_open"})
    config = settings.config.model_copy(update={"store": store, "budgets": budgets})
    return create_app(dataclasses.replace(settings, config=config))


@pytest.mark.redis
async def test_store_outage_spools_then_writes(
    tmp_path: Path, redis_port: tuple[int, list[subprocess.Popen[bytes]]]
) -> None:
    port, procs = redis_port
    home = tmp_path / "home"
    with serving(redis_app(home, port)) as proxy:
        base = f"http://127.0.0.1:{proxy.port}"
        services = proxy.server.config.app.state.services
        stop_redis(procs[0])
        answered = await asyncio.to_thread(send, base, 6)  # answered with the store down
        assert all_spooled(home, set(answered))
        assert services.ledger.backlog >= len(answered)

        procs.append(start_redis(port, tmp_path))  # back, empty, on the same port
        store = await RedisStore(f"redis://127.0.0.1:{port}/0").open()
        try:
            deadline = time.monotonic() + 20
            records = await store.query_ledger()
            while len(records) < len(answered) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                records = await store.query_ledger()
            check_ledger(records, answered)
        finally:
            await store.close()
        assert services.ledger.failures > 0
