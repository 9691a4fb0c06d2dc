"""Proxy overhead benchmark: direct vs the floor (FastAPI + aiohttp) vs tokenwise, side by side.

For each scenario a fresh fake upstream starts on the client CPU; each proxy target starts on
the proxy CPU (`taskset -c 1`, every process it forks included) and must pass a smoke check.
Then, per concurrency and repeat, the proxy and the direct baseline are measured back to back
(order alternating between repeats), each run being an unrecorded warm-up followed by the
measured window. Raw rows go to bench/results/results.jsonl, the table to the terminal and to
bench/results/latest.md.

    python bench/run.py                      # everything: ~10 min
    python bench/run.py --quick --targets direct,floor
    python bench/run.py --proxy-cmd 'litellm --config cfg.yaml --port {port}' --proxy-name litellm
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import clients
import orjson
import plot
import procs
import redis_stats
import report
import scenarios
from loadgen import DEFAULT_MODEL, LoadResult, bench_key, request_body
from scenarios import Plan, Scenario
from smoke import smoke_check
from targets import REPO_DIR, Target, TargetAbsent, TargetFailed, start_proxy, upstream_command

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Store:
    """The redis-server a target uses (started by the benchmark, on the proxy CPU)."""

    service: procs.Service
    port: int


@dataclass(frozen=True)
class Running:
    """A measured endpoint: direct (no service) or a started proxy with its replicas' ports."""

    name: str
    ports: list[int]
    service: procs.Service | None
    model: str
    store: Store | None


class Bench:
    """One benchmark run: owns the processes it starts and the rows it measures."""

    def __init__(self, plan: Plan, workdir: Path, sink: Path) -> None:
        self.plan = plan
        self.workdir = workdir
        self.sink = sink
        self.rows: list[report.Row] = []
        self.failures: list[str] = []
        self.broken: set[str] = set()
        self.notes: list[str] = []
        self.body_files: dict[tuple[bool, str], Path] = {}
        for model in {plan.model, *(t.model for t in plan.targets)}:
            for stream in (False, True):
                path = workdir / f"body-{model}-{'stream' if stream else 'json'}.json"
                path.write_bytes(request_body(model, stream=stream))
                self.body_files[stream, model] = path

    def record(self, row: report.Row) -> None:
        with self.sink.open("ab") as out:
            out.write(orjson.dumps(row) + b"\n")
        if row.get("type") == "run":
            self.rows.append(row)

    def run(self) -> None:
        for scenario in self.plan.scenarios:
            port = self.plan.upstream_port or procs.free_port()
            upstream = procs.start(
                "fake-upstream",
                upstream_command(port, scenario.latency_ms, scenario.chunk_ms),
                cpu=self.plan.client_cpu,
                log_path=RESULTS_DIR / "logs" / f"upstream-{scenario.name}.log",
            )
            try:
                problem = procs.wait_ready(upstream, port, "/healthz", 15.0)
                problem = problem or "; ".join(smoke_check(port, self.plan.key, self.plan.model))
                if problem:
                    raise SystemExit(f"fake upstream is not working: {problem}")
                self._scenario(scenario, upstream, port)
            finally:
                upstream.stop()

    def _scenario(self, scenario: Scenario, upstream: procs.Service, upstream_port: int) -> None:
        proxies = [t for t in self.plan.targets if t.name != "direct"]
        with_direct = len(proxies) < len(self.plan.targets)
        measured = len(self.rows)
        for target in proxies:
            if target.name not in self.broken:
                self._proxy_block(scenario, target, upstream, upstream_port, with_direct)
        if with_direct and not any(r["target"] == "direct" for r in self.rows[measured:]):
            direct = Running("direct", [upstream_port], None, self.plan.model, None)
            for c in self.plan.concurrency_of(
                scenario
            ):  # no proxy to pair with: the baseline alone
                for repeat in range(self.plan.repeats):
                    self._measure(scenario, direct, upstream, c, repeat)

    def _proxy_block(
        self,
        scenario: Scenario,
        target: Target,
        upstream: procs.Service,
        upstream_port: int,
        with_direct: bool,
    ) -> None:
        """Start one proxy (and its Redis), smoke-check it, measure it (paired with direct)."""
        workdir = self.workdir / f"{target.name}-{scenario.name}"
        store: Store | None = None
        try:
            if target.uses_redis:
                service, port = redis_stats.start_redis(
                    workdir / "redis",
                    RESULTS_DIR / "logs" / f"redis-{target.name}-{scenario.name}.log",
                    self.plan.proxy_cpu,
                )
                store = Store(service, port)
            proxy, ports = start_proxy(
                target,
                upstream_base=f"http://127.0.0.1:{upstream_port}/v1",
                workdir=workdir,
                log_path=RESULTS_DIR / "logs" / f"{target.name}-{scenario.name}.log",
                key=self.plan.key,
                cpu=self.plan.proxy_cpu,
                store_url=None if store is None else f"redis://127.0.0.1:{store.port}/0",
            )
        except TargetAbsent as exc:
            self._absent(target.name, str(exc))
            if store is not None:
                store.service.stop()
            return
        except (TargetFailed, OSError) as exc:
            self._fail(target.name, str(exc))
            if store is not None:
                store.service.stop()
            return
        pair = target.name if with_direct else None
        try:
            for port in ports:
                problems = smoke_check(port, self.plan.key, target.model)
                if problems:
                    found = "".join(f"\n  {problem}" for problem in problems)
                    raise TargetFailed(f"{target.name} target failed its smoke check:{found}")
            proxied = Running(target.name, ports, proxy, target.model, store)
            direct = Running("direct", [upstream_port], None, target.model, None)
            for c in self.plan.concurrency_of(scenario):
                for repeat in range(self.plan.repeats):
                    runs = [direct, proxied] if repeat % 2 == 0 else [proxied, direct]
                    for run in runs if with_direct else [proxied]:
                        self._measure(scenario, run, upstream, c, repeat, pair)
        except (TargetFailed, clients.ClientFailed) as exc:
            self._fail(target.name, str(exc))
        finally:
            proxy.stop()
            if store is not None:
                store.service.stop()

    def _absent(self, name: str, message: str) -> None:
        print(f"\n-- skipped: {message}\n", file=sys.stderr)
        self.notes.append(message)
        self.broken.add(name)

    def _fail(self, name: str, message: str) -> None:
        print(f"\n!! {message}\n", file=sys.stderr)
        self.failures.append(message)
        self.broken.add(name)

    def _measure(
        self,
        scenario: Scenario,
        run: Running,
        upstream: procs.Service,
        c: int,
        repeat: int,
        pair: str | None = None,
    ) -> None:
        url = ",".join(f"http://127.0.0.1:{port}/v1/chat/completions" for port in run.ports)
        plan = self.plan
        proxy, store = run.service, run.store

        def window(seconds: int) -> tuple[str, LoadResult]:
            body = self.body_files[scenario.stream, run.model]
            return clients.run_window(
                url, c, seconds, stream=scenario.stream, use_wrk=plan.use_wrk,
                body_file=body, key=plan.key, model=run.model,
            )  # fmt: skip

        window(plan.warmup_s)
        proxy_cpu = procs.tree_cpu_s(proxy.pid) if proxy else 0.0
        upstream_cpu = procs.tree_cpu_s(upstream.pid)
        redis_before = redis_stats.counts(store.port) if store else None
        client, result = window(plan.duration_s)
        redis_used = None
        if store is not None and redis_before is not None:
            redis_used = redis_stats.counts(store.port).delta(redis_before)
        done = max(result.requests, 1)
        target = run.name
        row: report.Row = {
            "type": "run",
            "run_id": plan.run_id,
            "scenario": scenario.name,
            "concurrency": c,
            "target": target,
            "repeat": repeat,
            "pair": pair,
            "client": client,
            **result.as_dict(),
            "proxy_cpu_ms_per_req": (
                round((procs.tree_cpu_s(proxy.pid) - proxy_cpu) * 1000 / done, 4) if proxy else None
            ),
            "proxy_rss_mb": round(procs.tree_rss_mb(proxy.pid), 1) if proxy else None,
            "upstream_cpu_ms_per_req": round(
                (procs.tree_cpu_s(upstream.pid) - upstream_cpu) * 1000 / done, 4
            ),
            "redis_cpu_ms_per_req": None,
            "redis_cmds_per_req": None,
            "redis_rtt_per_req": None,
            "redis_calls_per_req": None,
        }
        if redis_used is not None:
            row["redis_cpu_ms_per_req"] = round(redis_used.cpu_s * 1000 / done, 4)
            row["redis_cmds_per_req"] = round(redis_used.commands / done, 3)
            row["redis_rtt_per_req"] = round(redis_used.reads / done, 3)
            row["redis_calls_per_req"] = {
                name: round(n / done, 4) for name, n in sorted(redis_used.calls.items())
            }
        self.record(row)
        print(scenarios.progress_line(row), file=sys.stderr, flush=True)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    plan = scenarios.parse_plan(argv, key=bench_key(), model=DEFAULT_MODEL)
    if plan.client_cpu is not None:
        os.sched_setaffinity(0, {plan.client_cpu})  # inherited by upstream, wrk and loadgen
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    meta: report.Row = {
        "type": "meta",
        "run_id": plan.run_id,
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        **scenarios.describe(plan),
    }
    with tempfile.TemporaryDirectory(prefix="tokenwise-bench-") as tmp:
        bench = Bench(plan, Path(tmp), RESULTS_DIR / "results.jsonl")
        bench.record(meta)
        try:
            bench.run()
        except KeyboardInterrupt:
            print("\ninterrupted: reporting what was measured", file=sys.stderr)
        except clients.ClientFailed as exc:
            bench.failures.append(f"the load generator failed against direct: {exc}")
    order = ["direct", *(t.name for t in plan.targets if t.name != "direct")]
    summaries = report.summarise(bench.rows, order, [s.name for s in plan.scenarios])
    print()
    print(report.text_table(summaries))
    latest = RESULTS_DIR / "latest.md"
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    latest.write_text(report.markdown_report(meta, summaries, bench.failures, bench.notes))
    plot_path = RESULTS_DIR / "latest.png"
    if plot.plot(summaries, plot_path, str(meta["run_id"])):
        print(f"plot: {plot_path}")
    print(f"\nraw rows: {RESULTS_DIR / 'results.jsonl'}  table: {latest}")
    for note in bench.notes:
        print(f"\nSKIPPED: {note}", file=sys.stderr)
    for failure in bench.failures:
        print(f"\nNOT MEASURED:\n{failure}", file=sys.stderr)
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
