"""A real Prometheus for the tests: free loopback port, temporary data directory, 1 s scrapes.

`start_prometheus(targets, workdir)` is a context manager yielding a `Prometheus` whose HTTP API
the test queries. Without the binary (Debian package `prometheus`, /usr/bin/prometheus) the test
fails, naming scripts/setup: CI must run the dashboard tests, never skip them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import free_port, stop_process

START_TIMEOUT = 20.0
SCRAPE_INTERVAL = "1s"


def prometheus_binary() -> str:
    exe = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").is_file() else None
    )
    if exe is None:
        pytest.fail(
            "prometheus is not installed: run scripts/setup (Debian package `prometheus`); "
            "the dashboard tests never skip"
        )
    return exe


def scrape_config(targets: Sequence[str]) -> str:
    listed = ", ".join(f'"{t}"' for t in targets)
    return (
        "global:\n"
        f"  scrape_interval: {SCRAPE_INTERVAL}\n"
        f"  evaluation_interval: {SCRAPE_INTERVAL}\n"
        "scrape_configs:\n"
        "  - job_name: tokenwise\n"
        "    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: [{listed}]\n"
    )


class Prometheus:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector (raises on a PromQL error, naming the expression)."""
        resp = self.http.get("/api/v1/query", params={"query": expr})
        body = resp.json()
        if resp.status_code != 200 or body.get("status") != "success":
            raise AssertionError(f"PromQL error for {expr!r}: {body.get('error', resp.text)}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def label_values(self, label: str, match: str) -> list[str]:
        resp = self.http.get(f"/api/v1/label/{label}/values", params={"match[]": match})
        resp.raise_for_status()
        values: list[str] = resp.json()["data"]
        return values

    def wait_for(self, expr: str, timeout: float) -> list[dict[str, Any]]:
        """Poll until the expression has a result (e.g. enough scrapes happened)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.25)


@contextmanager
def start_prometheus(targets: Sequence[str], workdir: Path) -> Iterator[Prometheus]:
    exe = prometheus_binary()
    config = workdir / "prometheus.yml"
    config.write_text(scrape_config(targets), encoding="utf-8")
    log = workdir / "prometheus.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                exe,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(port)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited at start-up:\n{log.read_text()[-2000:]}")
            try:
                if server.http.get("/-/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus was not ready in {START_TIMEOUT}s:\n{log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        server.http.close()
        stop_process(proc, timeout=10)
