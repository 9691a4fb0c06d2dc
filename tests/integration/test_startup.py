"""`tokenwise serve` refuses a config that start-up cannot use in one line that names the file
and the key, exit code 2, no traceback: also for what only start-up finds (a policy, a budget's
team, the store), and also with several workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import free_port

BASE = """
providers:
  sim:
    base_url: builtin:simulator
models:
  sim-small:
    provider: sim
  sim-mini-reasoner:
    provider: sim
    reasoning: {efforts: [low, medium, high]}
"""
ROLES = "  roles: {small: sim-small, reasoner: sim-mini-reasoner, large: sim-mini-reasoner}\n"

CASES = {
    "policy": (
        "routing:\n  default_policy: nope\n" + ROLES,
        "routing.default_policy: no policy named 'nope'",
    ),
    "store-scheme": ("store:\n  url: foo://bar\n", "store.url: unsupported store URL 'foo://bar'"),
    "store-down": ("store:\n  url: redis://127.0.0.1:{closed}/0\n", "store.url: Redis store"),
    "rate-team": (
        "rate_limits:\n  teams:\n    ghost: {rpm: 5}\n",
        "rate_limits.teams.ghost: no team named 'ghost'",
    ),
    "budget-team": (
        "budgets:\n  limits:\n    - {scope: 'team:ghost', limit_usd: 5}\n",
        "budgets.limits.0: budget team:ghost: unknown team 'ghost'",
    ),
}


def serve(config: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    env["TOKENWISE_HOME"] = str(home)
    command = [sys.executable, "-m", "router", "serve", "--config", str(config)]
    return subprocess.run(
        [*command, "--port", str(free_port()), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("name", "workers"), [(name, 1) for name in CASES] + [("policy", 2)])
def test_what_start_up_finds_is_one_line_naming_file_and_key(
    tmp_path: Path, name: str, workers: int
) -> None:
    text, words = CASES[name]
    config = tmp_path / "tokenwise.yaml"
    config.write_text(BASE + text.replace("{closed}", str(free_port())))
    done = serve(config, tmp_path / "home", "--workers", str(workers))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("tokenwise: start-up failed")]
    assert f"{config}: {words}" in line, done.stderr
    assert "Application startup failed" not in done.stderr  # uvicorn's line: ours says why


def test_a_port_in_use_is_named_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "tokenwise.yaml"
    config.write_text(BASE)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
        env["TOKENWISE_HOME"] = str(tmp_path / "home")
        command = [sys.executable, "-m", "router", "serve", "--config", str(config)]
        done = subprocess.run(
            [*command, "--port", str(port)], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr
    assert (
        f"tokenwise: start-up failed: server.port: cannot listen on 127.0.0.1:{port}" in done.stderr
    )
    assert "another process is listening there" in done.stderr
