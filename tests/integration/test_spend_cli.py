"""`tokenwise spend` in a subprocess, over a SQLite ledger filled through the proxy by two teams.

The expected totals are the sums of the cost each response announced (`x-tokenwise-cost-usd`,
or the stream's final `: tokenwise {...}` comment), so the command is checked against what the
clients were told, to the last decimal.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from router.app import create_app
from router.config.load import load_settings
from router.localserver import ServerThread, serving

MASTER = "tw-master-for-spend-tests"
KEYS = {"research": "tw-research-key", "support": "tw-support-key"}
ASK = [{"role": "user", "content": "Summarise the water cycle."}]


@dataclass
class Filled:
    proxy: ServerThread
    config: Path
    home: Path
    spent: dict[tuple[str, str], Decimal]  # (team, model) -> USD announced to the clients
    requests: dict[tuple[str, str], int]


def config_text() -> str:
    return """
providers:
  simulator:
    base_url: builtin:simulator
models:
  sim-small:
    provider: simulator
  sim-mini-reasoner:
    provider: simulator
    reasoning: {efforts: [low, medium, high]}
  sim-large-reasoner:
    provider: simulator
    reasoning: {efforts: [low, medium, high]}
routing:
  default_model: sim-small
  roles: {small: sim-small, reasoner: sim-mini-reasoner, large: sim-large-reasoner}
auth:
  keys:
    - {team: research, key_env: TW_SPEND_RESEARCH_KEY, name: research-1}
    - {team: support, key_env: TW_SPEND_SUPPORT_KEY, name: support-1}
"""


def announced_cost(resp: httpx.Response) -> Decimal:
    if "x-tokenwise-cost-usd" in resp.headers:
        return Decimal(resp.headers["x-tokenwise-cost-usd"])
    comment = next(line for line in resp.text.splitlines() if line.startswith(": tokenwise "))
    return Decimal(json.loads(comment[len(": tokenwise ") :])["cost_usd"])


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    home = tmp_path_factory.mktemp("spend-home")
    config = home / "tokenwise.yaml"
    config.write_text(config_text(), encoding="utf-8")
    env = {
        "TOKENWISE_HOME": str(home),
        "TOKENWISE_MASTER_KEY": MASTER,
        "TW_SPEND_RESEARCH_KEY": KEYS["research"],
        "TW_SPEND_SUPPORT_KEY": KEYS["support"],
    }
    plan = [
        ("research", "sim-small", False),
        ("research", "sim-small", True),
        ("research", "sim-mini-reasoner", False),
        ("support", "sim-small", False),
        ("support", "sim-mini-reasoner", False),
        ("support", "sim-mini-reasoner", True),
        ("support", "sim-large-reasoner", False),
    ]
    spent: dict[tuple[str, str], Decimal] = {}
    requests: dict[tuple[str, str], int] = {}
    with serving(create_app(load_settings(str(config), env=env))) as proxy:
        for i, (team, model, stream) in enumerate(plan):
            resp = httpx.post(
                f"http://127.0.0.1:{proxy.port}/v1/chat/completions",
                json={"model": model, "messages": ASK, "stream": stream, "seed": i},
                headers={"authorization": f"Bearer {KEYS[team]}"},
                timeout=30,
            )
            assert resp.status_code == 200, resp.text
            key = (team, model)
            spent[key] = spent.get(key, Decimal(0)) + announced_cost(resp)
            requests[key] = requests.get(key, 0) + 1
        services = proxy.server.config.app.state.services
        assert proxy.loop is not None
        drained = asyncio.run_coroutine_threadsafe(services.ledger.flush(), proxy.loop)
        assert drained.result(timeout=30)
        yield Filled(proxy, config, home, spent, requests)


def spend(
    filled: Filled, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    base["TOKENWISE_HOME"] = str(filled.home)
    return subprocess.run(
        [sys.executable, "-m", "router", "spend", *args],
        cwd=filled.home,
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def by(filled: Filled, index: int) -> tuple[dict[str, Decimal], dict[str, int]]:
    cost: dict[str, Decimal] = {}
    count: dict[str, int] = {}
    for key, usd in filled.spent.items():
        cost[key[index]] = cost.get(key[index], Decimal(0)) + usd
        count[key[index]] = count.get(key[index], 0) + filled.requests[key]
    return cost, count


def test_table_by_team(filled: Filled) -> None:
    result = spend(filled, "--config", str(filled.config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["team", "requests", "input"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line and line[0] != "-"}
    cost, count = by(filled, 0)
    for team in ("research", "support"):
        assert int(rows[team][1]) == count[team]
        assert Decimal(rows[team][7]) == cost[team]  # cost_usd column
    assert Decimal(rows["TOTAL"][7]) == sum(cost.values())
    assert "savings are an estimate" in lines[-1]


def test_json_by_model_is_exact(filled: Filled) -> None:
    result = spend(filled, "--config", str(filled.config), "--by", "model", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["by"] == "model"
    cost, count = by(filled, 1)
    rows = {row["model"]: row for row in doc["rows"]}
    assert set(rows) == set(cost)
    for model, row in rows.items():
        assert Decimal(row["cost_total"]) == cost[model]
        assert row["requests"] == count[model]
        parts = ("cost_input", "cost_cached_input", "cost_cache_write", "cost_reasoning")
        assert sum((Decimal(row[p]) for p in (*parts, "cost_output")), Decimal(0)) == cost[model]
    assert Decimal(doc["total"]["cost_total"]) == sum(cost.values())
    assert rows["sim-mini-reasoner"]["reasoning_tokens"] > 0


def test_csv_by_day(filled: Filled) -> None:
    result = spend(filled, "--config", str(filled.config), "--by", "day", "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    today = datetime.now(UTC).date()
    assert len(rows) == 1 and rows[0]["day"] in (str(today), str(today - timedelta(days=1)))
    assert int(rows[0]["requests"]) == sum(filled.requests.values())
    assert Decimal(rows[0]["cost_total"]) == sum(filled.spent.values())


def test_since_and_until_bound_the_period(filled: Filled) -> None:
    tomorrow = str(datetime.now(UTC).date() + timedelta(days=1))
    yesterday = str(datetime.now(UTC).date() - timedelta(days=2))
    later = spend(filled, "--config", str(filled.config), "--since", tomorrow, "--json")
    earlier = spend(filled, "--config", str(filled.config), "--until", yesterday, "--json")
    both = spend(
        filled, "--config", str(filled.config), "--since", yesterday, "--until", tomorrow, "--json"
    )
    assert json.loads(later.stdout)["rows"] == []
    assert json.loads(earlier.stdout)["rows"] == []
    assert Decimal(json.loads(both.stdout)["total"]["cost_total"]) == sum(filled.spent.values())


def test_url_asks_the_running_server(filled: Filled) -> None:
    url = f"http://127.0.0.1:{filled.proxy.port}"
    local = spend(filled, "--config", str(filled.config), "--by", "team", "--json")
    remote = spend(filled, "--url", url, "--json", env={"TOKENWISE_MASTER_KEY": MASTER})
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_url_refuses_a_wrong_or_missing_master_key(filled: Filled) -> None:
    url = f"http://127.0.0.1:{filled.proxy.port}"
    wrong = spend(filled, "--url", url, env={"TOKENWISE_MASTER_KEY": KEYS["research"]})
    assert wrong.returncode == 2 and "401" in wrong.stderr and "master key" in wrong.stderr
    assert "{" not in wrong.stderr  # the error message, not the JSON body
    missing = spend(filled, "--url", url)
    assert missing.returncode == 2 and "TOKENWISE_MASTER_KEY" in missing.stderr
    resp = httpx.get(
        f"{url}/admin/spend", headers={"authorization": f"Bearer {MASTER}"}, params={"by": "week"}
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "by"


def test_bad_date_and_empty_home(filled: Filled, tmp_path: Path) -> None:
    bad = spend(filled, "--config", str(filled.config), "--since", "last tuesday")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    backwards = spend(
        filled, "--config", str(filled.config), "--since", "2026-02-01", "--until", "2026-01-01"
    )
    assert backwards.returncode == 2 and "is not before --until" in backwards.stderr
    empty = spend(filled, "--json", env={"TOKENWISE_HOME": str(tmp_path / "nothing-here")})
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["rows"] == []
    assert "nothing recorded" in empty.stderr
    assert not (tmp_path / "nothing-here").exists()  # reading never creates a store
    typo = tmp_path / "typo.yaml"
    typo.write_text(filled.config.read_text() + f"store:\n  url: sqlite:///{tmp_path}/nope/tw.db\n")
    missing = spend(filled, "--config", str(typo))
    assert missing.returncode == 2 and f"{tmp_path}/nope does not exist" in missing.stderr
    (tmp_path / "file").write_text("x")
    unusable = spend(filled, env={"TOKENWISE_HOME": str(tmp_path / "file")})
    assert unusable.returncode == 2 and "is not a folder" in unusable.stderr
    assert "Traceback" not in missing.stderr + unusable.stderr
