"""The Grafana dashboard, proven through a real Prometheus scraping a proxy under traffic.

A proxy (embedded default: the simulator in-process) serves a mix of requests (JSON and
streams, reasoning efforts, cached prompts, usage withheld, upstream failures, `auto`) while
Prometheus scrapes its /metrics every second. Then every PromQL expression of
deploy/grafana/tokenwise.json, with Grafana's variables given concrete values, must return data
through Prometheus's HTTP API, and every metric it names must be in /metrics. Also: the metrics
of `tokenwise serve --workers 2` add up over both workers, and the deploy files hang together.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from router.app import create_app
from router.budget.admin_ops import create_key
from router.config.load import load_settings
from router.localserver import ServerThread, serving
from router.store.base import BudgetRecord, TeamRecord
from tests.integration.test_ledger import Proxy
from tests.prometheus_server import Prometheus, start_prometheus

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "tokenwise.json"
KEY = "tw-dashboard-key"
AUTH = {"authorization": f"Bearer {KEY}"}
TRAFFIC_SECONDS = 5.0
# Grafana's variables, as Grafana would fill them for "All" and a short range.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "5m", "$__interval": "1s"}
LONG_PROMPT = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return doc


def expressions() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query of every panel."""
    found = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def concrete(expr: str) -> str:
    for name, value in GRAFANA_VARS.items():
        expr = expr.replace(name, value)
    for variable in dashboard()["templating"]["list"]:
        expr = expr.replace(f"${variable['name']}", variable["allValue"])
    assert "$" not in expr, expr
    return expr


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\btokenwise_[a-z_]+\b", expr))


BROKE: list[str] = []  # the key of a team with a $0 budget (made by the `proxy` fixture)


def traffic(base: str, stop: threading.Event) -> int:
    """A mix of requests until `stop`; returns how many were sent."""
    bodies: list[dict[str, Any]] = [
        {"model": "sim-small", "messages": [{"role": "user", "content": "Hi there"}]},
        {
            "model": "sim-mini-reasoner",
            "reasoning_effort": "low",
            "stream": True,
            "messages": [{"role": "user", "content": "Prove there are infinitely many primes."}],
        },
        {
            "model": "sim-small",
            "messages": [{"role": "user", "content": LONG_PROMPT}],
            "sim": {"cached_tokens": 256},
        },
        {  # the output limit goes to reasoning: paid for, no answer
            "model": "sim-mini-reasoner",
            "reasoning_effort": "high",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Prove there are infinitely many primes."}],
        },
        {
            "model": "sim-small",
            "stream": True,
            "messages": [{"role": "user", "content": "Name a river"}],
            "sim": {"fault": {"no_usage": True}},
        },
        {
            "model": "sim-small",
            "messages": [{"role": "user", "content": "fail please"}],
            "sim": {"fault": {"status": 500}},
        },
        {"model": "auto", "messages": [{"role": "user", "content": "What is 17 * 23?"}]},
    ]
    refused = {"authorization": f"Bearer {BROKE[0]}"}  # a team whose budget is spent
    sent = 0
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as http:
        while not stop.is_set():
            body = bodies[sent % len(bodies)]
            headers = refused if sent % (len(bodies) + 1) == 0 else None
            http.post("/v1/chat/completions", json={**body, "seed": sent}, headers=headers).read()
            sent += 1
    return sent


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    home = tmp_path_factory.mktemp("dashboard-home")
    env = {"TOKENWISE_HOME": str(home), "TOKENWISE_DEV_KEY": KEY}
    with serving(create_app(load_settings(None, env=env, cwd=home))) as server:
        store = server.server.config.app.state.services.store

        async def budget() -> str:
            if await store.get_team("dev") is None:
                await store.put_team(TeamRecord("dev", time.time()))
            await store.put_budget(BudgetRecord("team:dev", Decimal(100), window="day"))
            await store.put_team(TeamRecord("broke", time.time()))  # refused: a $0 budget
            await store.put_budget(BudgetRecord("team:broke", Decimal(0), window="day"))
            made = await create_key(store, "broke")
            return str(made["key"])

        assert server.loop is not None
        BROKE.append(asyncio.run_coroutine_threadsafe(budget(), server.loop).result(timeout=30))
        yield server


@pytest.fixture(scope="module")
def scraped(proxy: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Prometheus scraping the proxy while traffic runs, until it holds several scrapes."""
    workdir = tmp_path_factory.mktemp("prometheus")
    with start_prometheus([f"127.0.0.1:{proxy.port}"], workdir) as prometheus:
        stop = threading.Event()
        worker = threading.Thread(
            target=traffic, args=(f"http://127.0.0.1:{proxy.port}", stop), daemon=True
        )
        worker.start()
        try:
            scrapes = prometheus.wait_for(
                'count_over_time(up{job="tokenwise"}[1m]) >= 4', timeout=TRAFFIC_SECONDS + 15
            )
            assert scrapes, "Prometheus did not scrape the proxy four times"
            time.sleep(max(0.0, TRAFFIC_SECONDS - 4))
        finally:
            stop.set()
            worker.join(timeout=30)
        prometheus.wait_for('count_over_time(up{job="tokenwise"}[1m]) >= 6', timeout=10)
        yield prometheus


@pytest.mark.prometheus
@pytest.mark.parametrize(("title", "expr"), expressions())
def test_every_dashboard_query_returns_data(scraped: Prometheus, title: str, expr: str) -> None:
    result = scraped.query(concrete(expr))
    assert result, f"panel {title!r}: no data for {concrete(expr)}"
    values = [float(sample["value"][1]) for sample in result]
    assert any(not math.isnan(v) for v in values), f"panel {title!r}: only NaN"


@pytest.mark.prometheus
def test_template_variables_have_values(scraped: Prometheus) -> None:
    for variable in dashboard()["templating"]["list"]:
        metric, label = re.fullmatch(
            r"label_values\((\w+), (\w+)\)", variable["query"]["query"]
        ).groups()  # type: ignore[union-attr]
        assert scraped.label_values(label, metric), variable["name"]


@pytest.mark.prometheus
def test_every_dashboard_metric_is_exposed(proxy: ServerThread, scraped: Prometheus) -> None:
    """After the traffic (`scraped`), /metrics has a sample of every metric the dashboard uses."""
    exposition = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics", timeout=10).text
    samples = {
        line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line[:1] != "#"
    }
    wanted = set().union(*(metric_names(expr) for _, expr in expressions()))
    assert wanted and wanted <= samples, sorted(wanted - samples)


def test_dashboard_json_is_provisioned_and_consistent(tmp_path: Path) -> None:
    doc = dashboard()
    provisioned = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )
    uid = provisioned["datasources"][0]["uid"]
    panels = [p for p in doc["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["uid"] == uid for p in panels)
    assert len({p["id"] for p in doc["panels"]}) == len(doc["panels"])
    titles = " ".join(p["title"].lower() for p in panels)
    for needed in (
        "team",
        "model",
        "cost per request",
        "savings",
        "tier",
        "reasoning",
        "latency",
        "overhead",
        "error",
        "budget",
    ):
        assert needed in titles, needed
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/tokenwise.yaml").read_text()
    )
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    grafana_mounts = compose["services"]["grafana"]["volumes"]
    dashboards_dir = provider["providers"][0]["options"]["path"]
    assert f"./grafana/tokenwise.json:{dashboards_dir}/tokenwise.json:ro" in grafana_mounts
    assert set(compose["services"]) == {"tokenwise", "redis", "prometheus", "grafana"}
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), mount
    env = {"TOKENWISE_HOME": str(tmp_path), "TOKENWISE_DEV_KEY": KEY}
    config = load_settings(str(DEPLOY / "tokenwise.yaml"), env=env)
    assert config.config.store.url == "redis://redis:6379/0"


def test_prometheus_config_is_valid() -> None:
    result = subprocess.run(
        ["promtool", "check", "config", str(DEPLOY / "prometheus.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def requests_total(exposition: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("tokenwise_requests_total{")
    )


def test_two_workers_report_metrics_together(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stale = home / "metrics" / "left-by-an-earlier-run.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale")
    server = Proxy(home, "--workers", "2")
    try:
        n = 24
        for i in range(n):  # a new connection each time: the kernel spreads them over workers
            resp = httpx.post(
                f"{server.base}/v1/chat/completions",
                json={"model": "sim-small", "messages": [{"role": "user", "content": f"hi {i}"}]},
                headers={"authorization": f"Bearer {server.key}"},
                timeout=30,
            )
            assert resp.status_code == 200, resp.text
        for _ in range(4):  # whichever worker answers the scrape reports both workers' requests
            assert requests_total(httpx.get(f"{server.base}/metrics", timeout=10).text) == n
        files = os.listdir(home / "metrics")
        assert "left-by-an-earlier-run.db" not in files
        pids = {name.rsplit("_", 1)[1] for name in files if name.startswith("counter_")}
        assert len(pids) >= 2, files
    finally:
        server.stop()
