"""`serve` as `tokenwise sim` runs it: a process that says it is simulated, and where."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]


def test_serve_announces_a_simulated_upstream(tmp_path: Path) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text("seed: 3\nmodels:\n  sim-extra: {base: sim-think}\n", encoding="utf-8")
    code = f"from router.sim.server import serve; serve({str(config)!r}, '127.0.0.1', 0)"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env, cwd=REPO
    ) as process:
        try:
            assert process.stderr is not None
            url = None
            for line in process.stderr:
                found = re.search(r"SIMULATED upstream .* at (http://\S+/v1)", line)
                if found:
                    url = found.group(1)
                    break
            assert url is not None, "no announcement line"
            response = httpx.get(f"{url}/models", timeout=5)
            assert response.headers["x-tokenwise-simulated"] == "true"
            assert "sim-extra" in {m["id"] for m in response.json()["data"]}
        finally:
            process.terminate()
