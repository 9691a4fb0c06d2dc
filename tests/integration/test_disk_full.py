"""A disk that refuses writes (full, over quota) does not fail requests or lose records.

The proxy is served on loopback in front of the simulator; the test points the descriptor of
the ledger spool or of the budget journal at `/dev/full`, so the kernel answers every write to
it with ENOSPC, as a full disk does. Requests are still answered through the SDK, their ledger
records reach the store, their reservations settle, and `/readyz` and `/metrics` count what the
disk refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import pytest

from router.ledger.spool import read_records
from router.localserver import ServerThread, serving
from router.store.base import LedgerRecord
from tests.integration.served import on_loop
from tests.integration.test_budgets import KEYS, config, proxy_app

ASK = [{"role": "user", "content": "Name three rivers of Europe."}]
LIMIT = "budgets:\n  limits: [{scope: 'team:research', limit_usd: '5', window: day}]"


@pytest.fixture
def proxy(sim: ServerThread, tmp_path: Path) -> Iterator[ServerThread]:
    with serving(proxy_app(tmp_path / "home", config(sim, LIMIT))) as served:
        yield served


@contextmanager
def refused(home: Path, folder: str) -> Iterator[None]:
    """Every write to this process's open file under `home`/`folder` fails with ENOSPC."""
    (fd,) = [
        int(name)
        for name in os.listdir("/proc/self/fd")
        if _target(name).startswith(f"{home / folder}/")
    ]
    saved = os.dup(fd)
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, fd)
        yield
    finally:
        os.dup2(saved, fd)  # the disk has room again
        os.close(saved)
        os.close(full)


def _target(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def ask(proxy: ServerThread, *, stream: bool) -> str:
    """One answered request through the SDK; its request id."""
    with openai.OpenAI(
        base_url=f"http://127.0.0.1:{proxy.port}/v1", api_key=KEYS["research"], max_retries=0
    ) as client:
        if stream:
            with client.chat.completions.with_streaming_response.create(
                model="sim-small", messages=ASK, stream=True
            ) as response:
                text = "".join(response.iter_lines())
                assert text.endswith("data: [DONE]")
                return response.headers["x-request-id"]
        raw = client.chat.completions.with_raw_response.create(model="sim-small", messages=ASK)
        assert raw.parse().choices[0].message.content
        return raw.headers["x-request-id"]


def stored(proxy: ServerThread, ids: set[str]) -> list[LedgerRecord]:
    services = proxy.server.config.app.state.services
    deadline = time.monotonic() + 10
    while True:
        on_loop(proxy, services.ledger.flush(2))
        records = on_loop(proxy, services.store.query_ledger(team="research"))
        found = [r for r in records if r.request_id in ids]
        if len(found) >= len(ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def spooled(home: Path) -> set[str]:
    return {
        record.request_id
        for path in (home / "spool").glob("ledger-*.jsonl")
        for record in read_records(path)[0]
    }


def disk_errors(proxy: ServerThread) -> tuple[dict[str, int], str]:
    base = f"http://127.0.0.1:{proxy.port}"
    ready = httpx.get(f"{base}/readyz").json()
    exposition = httpx.get(f"{base}/metrics").text
    return ready["disk"], exposition


def test_a_full_disk_under_the_ledger_spool_loses_no_request_and_no_record(
    proxy: ServerThread, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with refused(home, "spool"):
        ids = {ask(proxy, stream=False), ask(proxy, stream=True)}
        records = stored(proxy, ids)
    assert {r.request_id for r in records} == ids  # in the store, though never spooled
    assert all(r.cost_total > 0 for r in records)
    assert not ids & spooled(home)
    disk, exposition = disk_errors(proxy)
    assert disk == {"ledger_spool_write_errors": 2, "budget_journal_write_errors": 0}
    assert 'tokenwise_disk_write_errors_total{file="ledger_spool"} 2.0' in exposition

    later = ask(proxy, stream=False)  # the disk has room again: nothing more refused
    assert [r.request_id for r in stored(proxy, {later})] == [later]
    assert disk_errors(proxy)[0]["ledger_spool_write_errors"] == 2


def test_a_full_disk_under_the_budget_journal_still_reserves_and_settles(
    proxy: ServerThread, tmp_path: Path
) -> None:
    services = proxy.server.config.app.state.services
    with refused(tmp_path / "home", "budget"):
        ids = {ask(proxy, stream=False), ask(proxy, stream=True)}
        records = stored(proxy, ids)
        deadline = time.monotonic() + 10
        view = on_loop(proxy, services.store.spend("team:research", time.time()))
        while view.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
            view = on_loop(proxy, services.store.spend("team:research", time.time()))
    assert len(records) == 2
    assert view.in_flight == 0  # both reservations settled
    spent = sum((r.cost_total for r in records), Decimal(0))
    assert 0 <= spent - view.settled < Decimal("0.000001") and spent > 0  # router.budget.carry
    disk, exposition = disk_errors(proxy)
    # each request journals: about to reserve, reserved, its cost, settled
    assert disk == {"ledger_spool_write_errors": 0, "budget_journal_write_errors": 8}
    assert 'tokenwise_disk_write_errors_total{file="budget_journal"} 8.0' in exposition
