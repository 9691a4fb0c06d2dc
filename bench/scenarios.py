"""The scenarios, the command line of bench/run.py and the plan it resolves to."""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import clients
from targets import BUILTIN, BUILTIN_TARGETS, Target


@dataclass(frozen=True)
class Scenario:
    name: str
    stream: bool
    latency_ms: float  # upstream delay before the answer / the first content chunk
    chunk_ms: float  # upstream delay between stream chunks


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("ns-l0", stream=False, latency_ms=0, chunk_ms=0),
        Scenario("ns-l50", stream=False, latency_ms=50, chunk_ms=0),
        Scenario("st-l50", stream=True, latency_ms=50, chunk_ms=5),
        Scenario("st-l0", stream=True, latency_ms=0, chunk_ms=0),
    )
}
DEFAULT_SCENARIOS = "ns-l0,ns-l50,st-l50"
DEFAULT_TARGETS = "direct,floor,full-sqlite,full-redis,litellm"
UPSTREAM_COMMAND = "python bench/fake_upstream.py --port {port} --latency-ms L --chunk-ms C"
COMMANDS = {
    "floor": "python bench/floor_proxy.py --port {port} --upstream {upstream}",
    "floor-r2": "2 x python bench/floor_proxy.py --port {port_i} --upstream {upstream}",
    "tokenwise": "tokenwise serve --config <generated: one model> --host 127.0.0.1 --port {port}",
    "tokenwise-r2": "2 x tokenwise serve --config <same as tokenwise> --port {port_i}",
    "full-sqlite": "tokenwise serve --config <generated: every feature, sqlite> --port {port}",
    "full-redis": "tokenwise serve --config <generated: every feature, redis> --port {port}",
    "full-redis-w2": "tokenwise serve --config <same as full-redis> --port {port} --workers 2",
    "full-redis-r2": "2 x tokenwise serve --config <same as full-redis> --port {port_i}",
    "litellm": ".venv-litellm/bin/litellm --config <generated> --port {port}",
    "redis": "redis-server --port {port} --save '' --appendonly no (on the proxy CPU)",
}


@dataclass(frozen=True)
class Plan:
    run_id: str
    scenarios: list[Scenario]
    concurrency: list[int]
    levels: dict[str, list[int]]  # a scenario's own concurrency (`ns-l0@16`), else the default

    def concurrency_of(self, scenario: Scenario) -> list[int]:
        return self.levels.get(scenario.name, self.concurrency)

    targets: list[Target]
    duration_s: int
    warmup_s: int
    repeats: int
    use_wrk: bool
    client_cpu: int | None
    proxy_cpu: int | None
    upstream_port: int | None
    key: str
    model: str


def _levels(text: str, what: str) -> list[int]:
    try:
        levels = [int(c) for c in text.replace("+", ",").split(",") if c.strip()]
    except ValueError:
        levels = []
    if not levels or min(levels) < 1:
        raise SystemExit(f"{what} needs positive integers, got {text!r}")
    return levels


def _scenarios(text: str) -> tuple[list[Scenario], dict[str, list[int]]]:
    """`ns-l0@16,ns-l50@1+64,st-l50`: scenarios, each with its own concurrency when given."""
    names, levels = [], {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, at, given = item.partition("@")
        names.append(name)
        if at:
            levels[name] = _levels(given, f"--scenarios {name}@")
    chosen = _names(",".join(names), list(SCENARIOS), "scenarios")
    return [SCENARIOS[n] for n in chosen], levels


def _names(text: str, known: Sequence[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise SystemExit(f"unknown {what}: {', '.join(unknown) or '(none)'}; known: {known}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Measure proxy overhead against a fake upstream.")
    add = parser.add_argument
    add(
        "--scenarios",
        default=DEFAULT_SCENARIOS,
        help=f"of {','.join(SCENARIOS)}; NAME@16+64 gives one its own concurrency",
    )
    add("--concurrency", default="1,16,64", help="client connections, comma-separated")
    add("--targets", default=DEFAULT_TARGETS, help=f"of {','.join(BUILTIN)}")
    add("--duration", type=int, help="measured seconds per run (default 4; 2 with --quick)")
    add("--warmup", type=int, default=1, help="unrecorded warm-up seconds per run")
    add("--repeats", type=int, help="repeats, medians reported (default 3; 1 with --quick)")
    add("--quick", action="store_true", help="1 repeat of 2 s")
    add("--proxy-cmd", help="another proxy to measure; {port} and {upstream} are filled in")
    add("--proxy-name", default="custom", help="target name for --proxy-cmd")
    add("--proxy-health", help="GET path that answers 200 when --proxy-cmd is ready")
    add("--client", choices=("auto", "loadgen"), default="auto", help="auto: wrk when installed")
    add("--layout", choices=("split", "none"), default="split", help="split: proxy on CPU 1")
    add("--upstream-port", type=int, help="fixed port for the fake upstream (default: free)")
    return parser


def parse_plan(argv: Sequence[str] | None, *, key: str, model: str) -> Plan:
    args = _parser().parse_args(argv)
    known = [*BUILTIN, args.proxy_name] if args.proxy_cmd else list(BUILTIN)
    names = _names(args.targets, known, "targets")
    if args.proxy_cmd and args.proxy_name not in names:
        names.append(args.proxy_name)
    targets = [
        Target(name, args.proxy_cmd, args.proxy_health, kind="custom")
        if args.proxy_cmd and name == args.proxy_name
        else BUILTIN_TARGETS[name]
        for name in dict.fromkeys(names)
    ]
    concurrency = _levels(args.concurrency, "--concurrency")
    chosen, levels = _scenarios(args.scenarios)
    if args.layout == "split" and not {0, 1} <= os.sched_getaffinity(0):
        raise SystemExit("--layout split needs CPUs 0 and 1; use --layout none")
    split = args.layout == "split"
    return Plan(
        run_id=datetime.datetime.now().strftime("%Y%m%d-%H%M%S"),
        scenarios=chosen,
        concurrency=concurrency,
        levels=levels,
        targets=targets,
        duration_s=max(1, args.duration or (2 if args.quick else 4)),
        warmup_s=max(1, args.warmup),
        repeats=max(1, args.repeats or (1 if args.quick else 3)),
        use_wrk=args.client == "auto" and clients.have_wrk(),
        client_cpu=0 if split else None,
        proxy_cpu=1 if split else None,
        upstream_port=args.upstream_port,
        key=key,
        model=model,
    )


def describe(plan: Plan) -> dict[str, Any]:
    """The plan as plain data for the meta row and latest.md."""
    pin = "taskset -c 1 " if plan.proxy_cpu is not None else ""
    commands = {"fake-upstream": UPSTREAM_COMMAND}
    for target in plan.targets:
        if target.name != "direct":
            commands[target.name] = pin + (target.command or COMMANDS[target.name])
            if target.uses_redis:
                commands["redis"] = pin + COMMANDS["redis"]
    layout = "split: CPU 0 client + upstream, CPU 1 proxy" if plan.proxy_cpu is not None else "none"
    return {
        "layout": layout,
        "duration_s": plan.duration_s,
        "warmup_s": plan.warmup_s,
        "repeats": plan.repeats,
        "scenarios": [s.name for s in plan.scenarios],
        "concurrency": {s.name: plan.concurrency_of(s) for s in plan.scenarios},
        "targets": [t.name for t in plan.targets],
        "clients": ("wrk + bench/wrk_post.lua" if plan.use_wrk else "bench/loadgen.py")
        + " (non-streaming), bench/loadgen.py (streams)",
        "commands": commands,
    }


def progress_line(row: dict[str, Any]) -> str:
    def num(key: str, digits: int = 2) -> str:
        value = row.get(key)
        return "-" if value is None else f"{value:.{digits}f}"

    return (
        f"{row['scenario']:<7} c={row['concurrency']:<3} r{row['repeat'] + 1} "
        f"{row['target']:<10} {num('rps', 0):>7} req/s  p50 {num('p50_ms')}  "
        f"p99 {num('p99_ms')}  ttft {num('ttft_p50_ms')}  "
        f"cpu {num('proxy_cpu_ms_per_req', 3)} ms/req  errors {row['errors']}"
    )
