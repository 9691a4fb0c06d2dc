"""A redis-server for the benchmark and what it did: commands and round trips per request.

The server is started fresh per target (nothing saved to disk), pinned to the proxy CPU: it is
part of what a Redis-backed deployment costs. `Counts` reads `INFO stats` and `INFO cpu`:

- `total_commands_processed`: every command, pipelined ones and those a Lua script calls
  inside Redis included;
- `total_reads_processed`: read events on client connections, i.e. round trips (a pipeline or
  a script call sent in one write is read in one event);
- `used_cpu_sys` + `used_cpu_user`: the server's CPU seconds;
- `INFO commandstats`: calls per command name, so the round trips can be told apart (an
  `evalsha` is one script call; the commands a script runs count under their own names).

The INFO call itself adds one command and one read; `delta` takes them off.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import procs
import redis


@dataclass(frozen=True)
class Counts:
    commands: int
    reads: int
    cpu_s: float
    calls: dict[str, int]

    def delta(self, before: Counts) -> Counts:
        calls = {name: n - before.calls.get(name, 0) for name, n in self.calls.items()}
        calls["info"] = calls.get("info", 0) - 1
        return Counts(
            self.commands - before.commands - 1,
            self.reads - before.reads - 1,
            self.cpu_s - before.cpu_s,
            {name: n for name, n in calls.items() if n > 0},
        )


def counts(port: int) -> Counts:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    try:
        info = client.info("all")
    finally:
        client.close()
    return Counts(
        int(info["total_commands_processed"]),
        int(info["total_reads_processed"]),
        float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
        {
            name.removeprefix("cmdstat_"): int(stat["calls"])
            for name, stat in info.items()
            if name.startswith("cmdstat_") and isinstance(stat, dict)
        },
    )


def start_redis(workdir: Path, log_path: Path, cpu: int | None) -> tuple[procs.Service, int]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise OSError("redis-server is not on PATH (Debian package redis-server)")
    port = procs.free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    cmd += ["--dir", str(workdir)]
    service = procs.start("redis", cmd, cpu=cpu, log_path=log_path)
    problem = procs.wait_ready(service, port, None, 10.0)
    if problem is not None:
        service.stop()
        raise OSError(problem)
    return service, port
