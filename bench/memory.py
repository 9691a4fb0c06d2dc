"""Memory check: does the proxy's resident memory stay flat over many requests?

Sends N requests (default 100,000; closed loop, 16 connections) through the proxy to the fake
upstream and reads the RSS of the proxy's process tree after a warm-up (default 10,000
requests) and then every --step requests. The ratio end / after-warm-up should stay near 1;
the exit code is 1 when it exceeds --max-ratio or when requests failed.

    python bench/memory.py                          # every feature on (SQLite), non-streaming
    python bench/memory.py --target full-redis --requests 1000000
    python bench/memory.py --stream --target floor
    python bench/memory.py --vary --requests 300000      # every request a new conversation
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
import procs
import redis_stats
import uvloop
from loadgen import LoadSpec, bench_key, request_body, run_load
from smoke import smoke_check
from targets import BUILTIN_TARGETS, Target, TargetFailed, start_proxy, upstream_command

LOG_DIR = Path(__file__).resolve().parent / "results" / "logs"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="full-sqlite", help="a bench target or --proxy-cmd's")
    parser.add_argument("--proxy-cmd", help="command to measure; {port} and {upstream} filled in")
    parser.add_argument("--proxy-health", help="GET path answering 200 when --proxy-cmd is up")
    parser.add_argument("--requests", type=int, default=100_000, help="total, warm-up included")
    parser.add_argument("--warmup", type=int, default=10_000, help="requests before the baseline")
    parser.add_argument("--step", type=int, default=10_000, help="requests between RSS readings")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--stream", action="store_true", help="streamed requests")
    parser.add_argument(
        "--vary",
        action="store_true",
        help="every request a new conversation (its own end user and question), so the bounded "
        "per-conversation maps fill to their caps",
    )
    parser.add_argument("--max-ratio", type=float, default=1.1, help="allowed end/warm-up RSS")
    parser.add_argument("--layout", choices=("split", "none"), default="split")
    args = parser.parse_args()
    if not 0 < args.warmup < args.requests or args.step < 1:
        parser.error("need 0 < --warmup < --requests and --step >= 1")
    if args.target not in BUILTIN_TARGETS and not args.proxy_cmd:
        parser.error(f"--target not in {', '.join(BUILTIN_TARGETS)} needs --proxy-cmd")
    return args


def _batch(
    port: int, args: argparse.Namespace, count: int, first: int
) -> tuple[int, int, str | None]:
    spec = LoadSpec(
        url=f"http://127.0.0.1:{port}/v1/chat/completions",
        connections=args.connections,
        body=request_body(args.model, stream=args.stream),
        stream=args.stream,
        key=bench_key(),
        requests=count,
        vary_from=first if args.vary else None,
    )
    result = uvloop.run(run_load(spec))
    return result.requests, result.errors, result.first_error


def _measure(proxy: procs.Service, port: int, args: argparse.Namespace) -> dict[str, Any]:
    done, errors, first_error = _batch(port, args, args.warmup, 0)
    warm_rss = procs.tree_rss_mb(proxy.pid)
    print(f"after {done:>7} requests (warm-up): RSS {warm_rss:7.1f} MB", flush=True)
    readings = [(done, round(warm_rss, 1))]
    sent = args.warmup
    while sent < args.requests:
        count = min(args.step, args.requests - sent)
        ok, failed, error = _batch(port, args, count, sent)
        sent += count
        done, errors, first_error = done + ok, errors + failed, first_error or error
        rss = procs.tree_rss_mb(proxy.pid)
        readings.append((done, round(rss, 1)))
        print(f"after {done:>7} requests: RSS {rss:7.1f} MB ({rss / warm_rss:.3f}x)", flush=True)
    final = procs.tree_rss_mb(proxy.pid)
    return {
        "target": args.target,
        "stream": args.stream,
        "connections": args.connections,
        "requests": done,
        "errors": errors,
        "first_error": first_error,
        "rss_after_warmup_mb": round(warm_rss, 1),
        "rss_end_mb": round(final, 1),
        "ratio": round(final / warm_rss, 3),
        "readings": readings,
    }


def main() -> int:
    args = _parse()
    split = args.layout == "split"
    if split:
        os.sched_setaffinity(0, {0})  # this client and the upstream on CPU 0
    if args.proxy_cmd:
        target = Target(args.target, args.proxy_cmd, args.proxy_health, kind="custom")
    else:
        target = BUILTIN_TARGETS[args.target]
    args.model = target.model
    redis = None
    port = procs.free_port()
    upstream = procs.start(
        "fake-upstream",
        upstream_command(port, 0, 0),
        cpu=0 if split else None,
        log_path=LOG_DIR / "upstream-memory.log",
    )
    try:
        problem = procs.wait_ready(upstream, port, "/healthz", 15.0)
        if problem:
            print(f"fake upstream is not working: {problem}", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory(prefix="tokenwise-memory-") as tmp:
            try:
                store_url = None
                if target.uses_redis:
                    redis, redis_port = redis_stats.start_redis(
                        Path(tmp) / "redis", LOG_DIR / "redis-memory.log", 1 if split else None
                    )
                    store_url = f"redis://127.0.0.1:{redis_port}/0"
                proxy, ports = start_proxy(
                    target,
                    upstream_base=f"http://127.0.0.1:{port}/v1",
                    workdir=Path(tmp),
                    log_path=LOG_DIR / f"{target.name}-memory.log",
                    key=bench_key(),
                    cpu=1 if split else None,
                    store_url=store_url,
                )
            except (TargetFailed, OSError) as exc:
                print(str(exc), file=sys.stderr)
                return 1
            proxy_port = ports[0]
            try:
                problems = smoke_check(proxy_port, bench_key(), target.model)
                if problems:
                    print(f"{target.name} failed its smoke check: {problems}", file=sys.stderr)
                    return 1
                summary = _measure(proxy, proxy_port, args)
            finally:
                proxy.stop()
    finally:
        upstream.stop()
        if redis is not None:
            redis.stop()
    print(orjson.dumps(summary).decode())
    failed = summary["errors"] != 0 or summary["ratio"] > args.max_ratio
    if failed:
        print(f"FAIL: errors {summary['errors']}, RSS ratio {summary['ratio']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
