"""Run one closed-loop client window as a subprocess (wrk or bench/loadgen.py) and parse it.

wrk (with bench/wrk_post.lua) drives non-streaming scenarios when installed: it costs ~8 us
per request, so the client does not cap the direct baseline. Streams always use loadgen.py,
which measures time to first token.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
from loadgen import LoadResult

BENCH_DIR = Path(__file__).resolve().parent
MARKER = "BENCH_JSON "
SLACK_S = 30


class ClientFailed(Exception):
    """The load generator itself failed (not the target)."""


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _run(cmd: list[str], timeout_s: float) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ClientFailed(f"{cmd[0]} did not finish in {timeout_s:.0f} s") from exc
    if done.returncode != 0:
        raise ClientFailed(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


def run_wrk(url: str, connections: int, duration_s: int, body_file: Path, key: str) -> LoadResult:
    """A wrk window (1 thread); latencies from wrk's histogram, errors as wrk counts them."""
    script = str(BENCH_DIR / "wrk_post.lua")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--timeout", "10s", "-s"]
    cmd += [script, url, "--", str(body_file), key]
    out = _run(cmd, duration_s + SLACK_S)
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith(MARKER)), None)
    if line is None:
        raise ClientFailed(f"no {MARKER.strip()} line in wrk output: {out[-800:]}")
    raw = orjson.loads(line[len(MARKER) :])
    seconds = raw["duration_us"] / 1e6
    ok = raw["requests"] - raw["errors_status"]
    has_latency = raw["requests"] > 0
    return LoadResult(
        requests=ok,
        errors=raw["errors"],
        duration_s=round(seconds, 3),
        rps=round(ok / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=raw["p50_us"] / 1000 if has_latency else None,
        p99_ms=raw["p99_us"] / 1000 if has_latency else None,
        mean_ms=round(raw["mean_us"] / 1000, 3) if has_latency else None,
        ttft_p50_ms=None,
        ttft_p99_ms=None,
        first_error=_wrk_error(raw),
    )


def _wrk_error(raw: dict[str, int]) -> str | None:
    kinds = ("connect", "read", "write", "status", "timeout")
    found = [f"{kind} {raw['errors_' + kind]}" for kind in kinds if raw["errors_" + kind]]
    return "wrk errors: " + ", ".join(found) if found else None


def run_loadgen(
    url: str, connections: int, duration_s: float, *, stream: bool, key: str, model: str
) -> LoadResult:
    cmd = [sys.executable, str(BENCH_DIR / "loadgen.py"), "--url", url]
    cmd += ["--connections", str(connections), "--duration", str(duration_s)]
    cmd += ["--model", model, "--key", key] + (["--stream"] if stream else [])
    out = _run(cmd, duration_s + SLACK_S)
    try:
        raw = orjson.loads(out.strip().splitlines()[-1])
    except (IndexError, orjson.JSONDecodeError) as exc:
        raise ClientFailed(f"loadgen printed no JSON: {out[-800:]}") from exc
    return LoadResult(**raw)


def run_window(
    url: str,
    connections: int,
    duration_s: int,
    *,
    stream: bool,
    use_wrk: bool,
    body_file: Path,
    key: str,
    model: str,
) -> tuple[str, LoadResult]:
    """(client name, result) of one closed-loop window against `url`."""
    if use_wrk and not stream and "," not in url:  # wrk takes one URL: replicas use loadgen
        return "wrk", run_wrk(url, connections, duration_s, body_file, key)
    result = run_loadgen(url, connections, duration_s, stream=stream, key=key, model=model)
    return "loadgen", result
