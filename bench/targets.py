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
from loadgen import DEFAULT_MODEL

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
READY_TIMEOUT_S = 30.0
LITELLM_VENV = REPO_DIR / ".venv-litellm"  # where bench/README.md says to install LiteLLM


class TargetFailed(Exception):
    """A proxy did not start, did not become ready, or failed its smoke check."""


class TargetAbsent(TargetFailed):
    """An optional target whose software is not installed: skipped with a note."""


@dataclass(frozen=True)
class Target:
    """How to start one proxy; `direct` has no command.

    kind: direct | floor | tokenwise (minimal config) | full (every feature on) | litellm |
    custom (--proxy-cmd). A `full` target has a store (sqlite or redis), a number of worker
    processes per replica, and a number of replicas (separate `tokenwise serve` processes on
    their own ports, sharing the store; clients spread their connections over them).
    """

    name: str
    command: str = ""  # a --proxy-cmd template; empty for the built-in targets
    health_path: str | None = "/healthz"
    kind: str = ""
    store: str | None = None
    workers: int = 1
    replicas: int = 1
    model: str = DEFAULT_MODEL

    @property
    def uses_redis(self) -> bool:
        return self.store == "redis"


BUILTIN_TARGETS = {
    t.name: t
    for t in (
        Target("direct", kind="direct"),
        Target("floor", kind="floor"),
        Target("floor-r2", kind="floor", replicas=2),
        Target("tokenwise", kind="tokenwise"),
        Target("tokenwise-r2", kind="tokenwise", replicas=2),
        Target("full-sqlite", kind="full", store="sqlite", model="auto"),
        Target("full-redis", kind="full", store="redis", model="auto"),
        Target("full-redis-w2", kind="full", store="redis", workers=2, model="auto"),
        Target("full-redis-r2", kind="full", store="redis", replicas=2, model="auto"),
        Target("litellm", kind="litellm", health_path="/health/liveliness"),
    )
}
BUILTIN = tuple(BUILTIN_TARGETS)


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


def full_config(upstream_base: str, key: str, store_url: str) -> str:
    """Every feature on: a team key, `auto` routed by the classifier and the default policy over
    three models, a hard monthly team budget and key rate limits (a reservation in the store per
    request, settled on close), metering, the ledger and the metrics."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"""\
server:
  host: 127.0.0.1
  port: 8000
store:
  url: "{store_url}"
providers:
  fake:
    base_url: {upstream_base}
    dialect: openai
models:
  bench-small:
    provider: fake
    upstream_id: bench-model
    price: gpt-4.1-mini
  bench-reasoner:
    provider: fake
    upstream_id: bench-model
    price: o4-mini
    reasoning: {{efforts: [low, medium, high]}}
  bench-large:
    provider: fake
    upstream_id: bench-model
    price: o3
    reasoning: {{efforts: [low, medium, high]}}
routing:
  roles: {{small: bench-small, reasoner: bench-reasoner, large: bench-large}}
auth:
  teams:
    - name: bench
  keys:
    - team: bench
      name: bench-key
      key_sha256: "{digest}"
      rpm: 100000000
      tpm: 1000000000000
budgets:
  limits:
    - scope: team:bench
      limit_usd: 1000000000
      window: month
"""


def tokenwise_command(config: Path, port: int, workers: int = 1) -> list[str]:
    """`tokenwise serve ...`, or `python -m router serve ...` when the script is not on PATH."""
    exe = shutil.which("tokenwise")
    head = [exe] if exe is not None else [sys.executable, "-m", "router"]
    cmd = [*head, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    return cmd + (["--workers", str(workers)] if workers > 1 else [])


LITELLM_CONFIG = """\
model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/bench-model
      api_base: {upstream}
      api_key: bench-upstream-key
general_settings:
  master_key: {key}
litellm_settings:
  drop_params: true
"""


LITELLM_LOGGING = """\
{"version": 1, "disable_existing_loggers": false,
 "loggers": {"uvicorn.access": {"level": "WARNING"}, "LiteLLM": {"level": "WARNING"}}}
"""


def litellm_command(port: int, upstream_base: str, workdir: Path, key: str) -> list[str]:
    """LiteLLM's proxy from its own virtualenv (`.venv-litellm`, or $LITELLM_BIN), its master
    key set to the bench key, one model on the fake upstream; no database (LiteLLM's spend
    tracking and budgets need Postgres), so it is compared with tokenwise's `tokenwise` row."""
    exe = os.environ.get("LITELLM_BIN") or str(LITELLM_VENV / "bin" / "litellm")
    if not Path(exe).is_file():
        raise TargetAbsent(
            f"litellm: not installed ({exe} is missing); install it in its own virtualenv: "
            f"python3 -m venv {LITELLM_VENV} && {LITELLM_VENV}/bin/pip install 'litellm[proxy]'"
        )
    config = workdir / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(upstream=upstream_base, key=key))
    quiet = workdir / "litellm-logging.json"  # no access log line per request, as tokenwise
    quiet.write_text(LITELLM_LOGGING)
    cmd = [exe, "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    return [*cmd, "--log_config", str(quiet)]


def proxy_commands(
    target: Target,
    ports: list[int],
    upstream_base: str,
    workdir: Path,
    key: str,
    store_url: str | None,
) -> list[str]:
    """The command that starts the target (a shell running every replica for `replicas` > 1)."""
    port = ports[0]
    if target.kind == "floor":
        script = str(BENCH_DIR / "floor_proxy.py")
        return _together(
            [[sys.executable, script, "--port", str(p), "--upstream", upstream_base] for p in ports]
        )
    if target.kind == "tokenwise":
        config = workdir / "tokenwise.yaml"
        config.write_text(tokenwise_config(upstream_base, key))
        return _together([tokenwise_command(config, p) for p in ports])
    if target.kind == "full":
        assert store_url is not None
        config = workdir / "tokenwise.yaml"
        config.write_text(full_config(upstream_base, key, store_url))
        return _together([tokenwise_command(config, p, target.workers) for p in ports])
    if target.kind == "litellm":
        return litellm_command(port, upstream_base, workdir, key)
    if not target.command:
        raise TargetFailed(f"{target.name}: no command to start it")
    filled = target.command.replace("{port}", str(port)).replace("{upstream}", upstream_base)
    return ["sh", "-c", filled]


def _together(commands: list[list[str]]) -> list[str]:
    """The one command, or one shell running every command (the replicas of a target) until
    they all end."""
    if len(commands) == 1:
        return commands[0]
    return ["sh", "-c", " & ".join(shlex.join(cmd) for cmd in commands) + " & wait"]


def start_proxy(
    target: Target,
    *,
    upstream_base: str,
    workdir: Path,
    log_path: Path,
    key: str,
    cpu: int | None,
    store_url: str | None = None,
) -> tuple[procs.Service, list[int]]:
    """Start the proxy and wait until every replica is ready; (service, ports).
    Raises TargetFailed (TargetAbsent when it is not installed)."""
    ports = [procs.free_port() for _ in range(target.replicas)]
    workdir.mkdir(parents=True, exist_ok=True)
    if target.store == "sqlite":
        store_url = f"sqlite:///{workdir / 'store.db'}"
    cmd = proxy_commands(target, ports, upstream_base, workdir, key, store_url)
    env = dict(os.environ)
    if target.kind in ("tokenwise", "full"):
        env = {k: v for k, v in env.items() if not k.startswith("TOKENWISE_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env["TOKENWISE_HOME"] = str(workdir / "home")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_DIR), env.get("PYTHONPATH")]))
    try:
        service = procs.start(target.name, cmd, cpu=cpu, log_path=log_path, env=env, cwd=REPO_DIR)
    except OSError as exc:
        raise TargetFailed(f"{target.name}: cannot run {cmd[0]!r}: {exc}") from exc
    for port in ports:
        problem = procs.wait_ready(service, port, target.health_path, READY_TIMEOUT_S)
        if problem is not None:
            service.stop()
            raise TargetFailed(_describe_failure(target, service, problem))
    return service, ports


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
