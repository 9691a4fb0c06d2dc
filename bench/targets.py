"""What a benchmark client talks to: the fake upstream directly, or a proxy in front of it.

    direct     client -> fake upstream
    floor      client -> bench/floor_proxy.py -> fake upstream
    tokenwise  client -> `tokenwise serve --config <generated>` -> fake upstream
    <custom>   client -> any command given with --proxy-cmd ({port}, {upstream} placeholders)

Every proxy is started pinned to the proxy CPU, must answer its readiness check in time, and
is stopped by process group.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import procs

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
READY_TIMEOUT_S = 15.0
BUILTIN = ("direct", "floor", "tokenwise")


class TargetFailed(Exception):
    """A proxy did not start, did not become ready, or failed its smoke check."""


@dataclass(frozen=True)
class Target:
    """How to start one proxy; `direct` has no command."""

    name: str
    command: str = ""  # a --proxy-cmd template; empty for the built-in targets
    health_path: str | None = "/healthz"


def upstream_command(port: int, latency_ms: float, chunk_ms: float) -> list[str]:
    script = str(BENCH_DIR / "fake_upstream.py")
    timing = ["--latency-ms", str(latency_ms), "--chunk-ms", str(chunk_ms)]
    return [sys.executable, script, "--port", str(port), *timing]


def tokenwise_config(upstream_base: str, key: str) -> str:
    """The YAML config `tokenwise serve` is benchmarked with: one model on the fake upstream."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"""\
server:
  host: 127.0.0.1
  port: 8000
providers:
  fake:
    base_url: {upstream_base}
    dialect: openai
models:
  bench-model:
    provider: fake
    upstream_id: bench-model
    context_window: 128000
    price: gpt-4.1-mini
auth:
  keys:
    - team: bench
      key_sha256: "{digest}"
"""


def tokenwise_command(config: Path, port: int) -> list[str]:
    """`tokenwise serve ...`, or `python -m router serve ...` when the script is not on PATH."""
    exe = shutil.which("tokenwise")
    head = [exe] if exe is not None else [sys.executable, "-m", "router"]
    return [*head, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]


def proxy_command(
    target: Target, port: int, upstream_base: str, workdir: Path, key: str
) -> list[str]:
    if target.name == "floor":
        script = str(BENCH_DIR / "floor_proxy.py")
        return [sys.executable, script, "--port", str(port), "--upstream", upstream_base]
    if target.name == "tokenwise":
        config = workdir / "tokenwise.yaml"
        config.write_text(tokenwise_config(upstream_base, key))
        return tokenwise_command(config, port)
    if not target.command:
        raise TargetFailed(f"{target.name}: no command to start it")
    filled = target.command.replace("{port}", str(port)).replace("{upstream}", upstream_base)
    return ["sh", "-c", filled]


def start_proxy(
    target: Target,
    *,
    upstream_base: str,
    workdir: Path,
    log_path: Path,
    key: str,
    cpu: int | None,
) -> tuple[procs.Service, int]:
    """Start the proxy and wait until it is ready; (service, port). Raises TargetFailed."""
    port = procs.free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = proxy_command(target, port, upstream_base, workdir, key)
    env = dict(os.environ)
    if target.name == "tokenwise":
        env = {k: v for k, v in env.items() if not k.startswith("TOKENWISE_")}
        env["TOKENWISE_HOME"] = str(workdir / "home")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_DIR), env.get("PYTHONPATH")]))
    try:
        service = procs.start(target.name, cmd, cpu=cpu, log_path=log_path, env=env, cwd=REPO_DIR)
    except OSError as exc:
        raise TargetFailed(f"{target.name}: cannot run {cmd[0]!r}: {exc}") from exc
    problem = procs.wait_ready(service, port, target.health_path, READY_TIMEOUT_S)
    if problem is not None:
        service.stop()
        raise TargetFailed(_describe_failure(target, service, problem))
    return service, port


def _describe_failure(target: Target, service: procs.Service, problem: str) -> str:
    lines = [
        f"{target.name} target: the proxy did not start: {problem}.",
        f"  command: {shlex.join(service.command)}",
        f"  log: {service.log_path}",
    ]
    tail = service.log_tail()
    if tail:
        lines.append("  last log lines:")
        lines.extend(f"    {line}" for line in tail.splitlines())
    return "\n".join(lines)
