"""Reliability soak: a steady load with injected upstream faults, then an audit.

Starts the simulator (`tokenwise sim`) and the proxy (`tokenwise serve`, SQLite store, one team
with a budget, retries, breakers and fallbacks on) and runs a closed loop of chat requests for
--duration seconds: streams and JSON answers, `auto` and named models, a share (--faults,
default 5%) carrying a simulator fault (`sim.fault`), and a share (--ghost, default 2%) asking a
model whose provider refuses connections and whose fallback is sim-small. Then it checks:

- every client-visible error (an error status, a stream ending in an error event or without
  `[DONE]`) belongs to a request the simulator's own log (GET /sim/log, read as the run goes)
  shows failing on every upstream call it received, and that carried a fault;
- no ledger record is lost: after a clean shutdown, the ledger holds exactly the request ids
  the clients were answered with, and no reservation is left open;
- memory (RSS) and open file descriptors of the proxy stay flat (read every --sample seconds;
  the session-pin map, bounded at 100,000 by default, is kept at 1,000 so that it fills during
  the warm-up instead of reading as growth: every soak prompt opens a new conversation).

    python bench/soak.py                      # 10 minutes
    python bench/soak.py --duration 120       # 2 minutes

Exit code 1 when a check fails. Results go to bench/results/soak-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import procs

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
KEY = "tw-soak-key"
MODELS = (
    ("auto", 0.55),
    ("sim-small", 0.25),
    ("sim-mini-reasoner", 0.1),
    ("sim-large-reasoner", 0.1),
)
# Faults that break an upstream call; `no_usage` and a status that did not fire do not.
BREAKING = {
    "disconnect_after_chunks",
    "slow_first_byte_ms",
    "idle_after_chunks",
    "malformed_sse",
    "malformed_json",
    "error_body_200",
    "no_done",
}
FAULTS: list[dict[str, Any]] = [
    {"status": 500, "fail_first": 1},  # mended by a retry
    {"status": 429, "retry_after_s": 0, "fail_first": 1},
    {"status": 503, "fail_first": 2},
    {"status": 503, "message": "down for good"},  # every call fails
    {"malformed_json": True},
    {"error_body_200": True},
    {"slow_first_byte_ms": 4000},
    {"disconnect_after_chunks": 0},
    {"disconnect_after_chunks": 3},  # streams: after the first byte, never retried
    {"malformed_sse": True},
    {"no_done": True},
    {"idle_after_chunks": 2, "idle_ms": 2500},
    {"no_usage": True},  # not a failure: metered by counting
]


def config(sim_port: int, dead_port: int) -> str:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    return f"""
server:
  timeouts: {{connect: 2, first_byte: 1.5, idle: 1.5, total: 60}}
providers:
  sim: {{base_url: "http://127.0.0.1:{sim_port}/v1"}}
  dead: {{base_url: "http://127.0.0.1:{dead_port}/v1"}}
models:
  sim-small: {{provider: sim}}
  sim-mini-reasoner: {{provider: sim, reasoning: {{efforts: [low, medium, high]}}}}
  sim-large-reasoner: {{provider: sim, reasoning: {{efforts: [low, medium, high]}}}}
  sim-think:
    provider: sim
    reasoning: {{efforts: [low, medium, high], output_field: think_tags}}
  sim-ghost: {{provider: dead, price: sim-small}}
routing:
  default_model: sim-small
  roles: {{small: sim-small, reasoner: sim-mini-reasoner, large: sim-large-reasoner}}
  session_capacity: 1000  # every prompt here is new: a full pin map would read as growth
auth:
  keys: [{{team: soak, key_sha256: "{digest}"}}]
budgets:
  limits: [{{scope: "team:soak", limit_usd: 1000000, window: total}}]
reliability:
  retries: {{attempts: 3, base_ms: 20, max_ms: 200, deadline_s: 8}}
  breaker: {{window_s: 10, min_requests: 5, error_rate: 0.5, open_s: 2}}
  fallbacks:
    sim-ghost: [sim-small]
    sim-large-reasoner: [sim-think]
    sim-mini-reasoner: [sim-think]
"""


@dataclass
class Outcome:
    request_id: str | None
    model: str
    stream: bool
    fault: dict[str, Any] | None
    status: int
    error: str | None  # the error code the client saw (None: a whole answer)
    attempts: int = 1
    fallback: str | None = None
    served_by: str | None = None


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    sim_log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (t, rss MB, fds)


def pick_model(rng: random.Random) -> str:
    return rng.choices([m for m, _ in MODELS], [w for _, w in MODELS])[0]


async def one(http: httpx.AsyncClient, url: str, n: int, rng: random.Random, args: Any) -> Outcome:
    model = "sim-ghost" if rng.random() < args.ghost else pick_model(rng)
    stream = rng.random() < 0.5
    fault = rng.choice(FAULTS) if rng.random() < args.faults else None
    sim: dict[str, Any] = {"completion_tokens": 40, "ttft_ms": 5, "inter_chunk_ms": 2}
    if fault is not None:
        sim["fault"] = fault
    body = {
        "model": model,
        "messages": [{"role": "user", "content": f"Soak request {n}: name a river in Europe."}],
        "stream": stream,
        "sim": sim,
    }
    try:
        async with http.stream("POST", url, json=body) as resp:
            data = await resp.aread()
    except httpx.HTTPError as exc:
        return Outcome(None, model, stream, fault, 0, f"client:{type(exc).__name__}")
    error = None
    if resp.status_code != 200:
        error = str(orjson.loads(data).get("error", {}).get("code"))
    elif stream:
        events = [e[6:] for e in data.decode().split("\n\n") if e.startswith("data: ")]
        if not events or events[-1] != "[DONE]":
            last = orjson.loads(events[-1]) if events else {}
            error = str(last.get("error", {}).get("code", "no_done"))
    h = resp.headers
    return Outcome(
        h.get("x-request-id"),
        model,
        stream,
        fault,
        resp.status_code,
        error,
        int(h.get("x-tokenwise-attempts", "1")),
        h.get("x-tokenwise-fallback"),
        h.get("x-tokenwise-model"),
    )


async def clients(port: int, args: Any, run: Run, until: float) -> None:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=args.connections * 2)
    headers = {"authorization": f"Bearer {KEY}"}

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as http:
            while time.monotonic() < until:
                run.outcomes.append(await one(http, url, next(counter), rng, args))

    await asyncio.gather(*(worker(args.seed * 1000 + i) for i in range(args.connections)))


async def watch(sim_port: int, proxy_pid: int, args: Any, run: Run, until: float) -> None:
    """Read the simulator's log as it grows (it keeps the last 10,000) and sample the proxy."""
    last = ""
    started = time.monotonic()
    next_sample = started
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            params = {"after": last} if last else {}
            got = await http.get(f"http://127.0.0.1:{sim_port}/sim/log", params=params)
            for entry in got.json()["data"]:
                last = entry["request_id"]
                rid = entry.get("client_request_id")
                if rid:
                    run.sim_log.setdefault(rid, []).append(entry)
            now = time.monotonic()
            if now >= next_sample:
                run.samples.append((now - started, procs.tree_rss_mb(proxy_pid), fds(proxy_pid)))
                next_sample = now + args.sample
            if now > until + 5:
                return
            await asyncio.sleep(1.0)


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def failed(entry: dict[str, Any]) -> bool:
    return entry.get("status", 200) >= 400 or bool(BREAKING & set(entry.get("fault", [])))


def audit(run: Run, db: Path) -> dict[str, Any]:
    answered = [o for o in run.outcomes if o.request_id is not None]
    errors = [o for o in answered if o.error is not None]
    unexplained = []
    for o in errors:
        calls = run.sim_log.get(o.request_id or "", [])
        ghost_only = o.model == "sim-ghost" and not calls  # refused connections leave no entry
        if o.fault is None or not (calls or ghost_only) or not all(failed(c) for c in calls):
            unexplained.append({**asdict(o), "sim_calls": calls})
    with sqlite3.connect(db) as conn:
        ledger = {row[0] for row in conn.execute("SELECT request_id FROM ledger")}
        open_holds = conn.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
    sent = {o.request_id for o in answered if o.request_id}
    rss = [s[1] for s in run.samples]
    fd = [s[2] for s in run.samples]
    warm = max(1, len(run.samples) // 5)  # the first fifth is warm-up
    return {
        "requests": len(run.outcomes),
        "no_answer": len(run.outcomes) - len(answered),
        "with_fault": sum(o.fault is not None for o in run.outcomes),
        "client_errors": len(errors),
        "errors_by_code": dict(Counter(o.error for o in errors)),
        "faulted_but_answered": sum(o.fault is not None and o.error is None for o in answered),
        "retried": sum(o.attempts > 1 for o in answered),
        "fell_back": sum(o.fallback is not None for o in answered),
        "served_by": dict(Counter(o.served_by for o in answered)),
        "unexplained_errors": unexplained[:20],
        "unexplained_count": len(unexplained),
        "ledger_rows": len(ledger),
        "ledger_missing": sorted(sent - ledger)[:20],
        "ledger_missing_count": len(sent - ledger),
        "ledger_extra_count": len(ledger - sent),
        "open_reservations": open_holds,
        "rss_mb": {"after_warmup": rss[warm - 1], "end": rss[-1], "max": max(rss)} if rss else {},
        "fds": {"after_warmup": fd[warm - 1], "end": fd[-1], "max": max(fd)} if fd else {},
        "samples": run.samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients")
    parser.add_argument("--faults", type=float, default=0.05, help="share with a fault")
    parser.add_argument("--ghost", type=float, default=0.02, help="share to a dead provider")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between readings")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tokenwise-soak-"))
    sim_port, port, dead = procs.free_port(), procs.free_port(), procs.free_port()
    (work / "tokenwise.yaml").write_text(config(sim_port, dead))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWISE_")}
    env["TOKENWISE_HOME"] = str(work / "home")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    head = [sys.executable, "-m", "router"]
    sim = procs.start(
        "sim",
        [*head, "sim", "--port", str(sim_port)],
        cpu=None,
        log_path=work / "sim.log",
        env=env,
        cwd=REPO,
    )
    serve = [*head, "serve", "--config", str(work / "tokenwise.yaml"), "--port", str(port)]
    proxy = procs.start(
        "tokenwise", serve, cpu=None, log_path=work / "proxy.log", env=env, cwd=REPO
    )
    try:
        for service, p in ((sim, sim_port), (proxy, port)):
            problem = procs.wait_ready(service, p, "/healthz", 30)
            if problem is not None:
                print(problem, service.log_tail(), sep="\n", file=sys.stderr)
                return 1
        run = Run()
        until = time.monotonic() + args.duration

        async def both() -> None:
            await asyncio.gather(
                clients(port, args, run, until), watch(sim_port, proxy.pid, args, run, until)
            )

        asyncio.run(both())
    finally:
        proxy.stop(grace_s=30)  # a clean shutdown: the ledger and the settlements drain
        sim.stop()
    report = audit(run, work / "home" / "tokenwise.db")
    report.update(duration_s=args.duration, connections=args.connections, faults=args.faults)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    summary = {k: v for k, v in report.items() if k not in ("samples", "unexplained_errors")}
    print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    print(f"full report: {out}")
    ok = (
        report["unexplained_count"] == 0
        and report["ledger_missing_count"] == 0
        and report["open_reservations"] == 0
        and report["no_answer"] == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
