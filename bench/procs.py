"""Benchmark processes: start pinned to a CPU, wait until ready, stop; CPU time and RSS of a tree.

Every process is started in its own session, so it leads a process group: `stop` signals that
group (the process and whatever it forked), and the CPU/RSS readings cover the group plus any
descendant that left it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

READY_POLL_S = 0.1


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cmd: Sequence[str], cpu: int | None) -> list[str]:
    """`cmd` run under `taskset -c cpu` (unchanged when cpu is None)."""
    return ["taskset", "-c", str(cpu), *cmd] if cpu is not None else list(cmd)


@dataclass
class Service:
    """A process the benchmark started, with its output in a log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    command: list[str]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def exit_code(self) -> int | None:
        return self.proc.poll()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it if it is still there after `grace_s`."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=grace_s)
        if any(stat.pgrp == self.proc.pid for stat in _read_stats()):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # forked children that outlived it


def start(
    name: str,
    cmd: Sequence[str],
    *,
    cpu: int | None,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Service:
    """Start `cmd` (pinned to `cpu`) in a new session with stdout+stderr to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full = pinned(cmd, cpu)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else dict(env),
            cwd=cwd,
        )
    return Service(name, proc, log_path, full)


def http_status(port: int, path: str, timeout_s: float = 2.0) -> int | None:
    """Status of GET http://127.0.0.1:port/path, None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_ready(
    service: Service, port: int, health_path: str | None, timeout_s: float
) -> str | None:
    """Wait for GET health_path = 200 (or a TCP accept when None); an error message on failure."""
    deadline = time.monotonic() + timeout_s
    last: int | None = None
    while time.monotonic() < deadline:
        code = service.exit_code()
        if code is not None:
            return f"{service.name} exited with code {code} before it was ready"
        if health_path is None:
            if accepts(port):
                return None
        else:
            last = http_status(port, health_path)
            if last == 200:
                return None
        time.sleep(READY_POLL_S)
    wanted = "a TCP accept" if health_path is None else f"GET {health_path} = 200"
    seen = "" if last is None else f" (last status {last})"
    return f"{service.name} gave no {wanted} on port {port} within {timeout_s:.0f} s{seen}"


@dataclass(frozen=True)
class _Stat:
    pid: int
    ppid: int
    pgrp: int
    cpu_ticks: int
    rss_pages: int


def _read_stats() -> list[_Stat]:
    stats = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
        stats.append(
            _Stat(
                pid=int(entry.name),
                ppid=int(fields[1]),
                pgrp=int(fields[2]),
                cpu_ticks=int(fields[11]) + int(fields[12]),  # utime + stime
                rss_pages=int(fields[21]),
            )
        )
    return stats


def _tree(root: int) -> list[_Stat]:
    stats = _read_stats()
    children: dict[int, list[_Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    chosen = {stat.pid: stat for stat in stats if stat.pid == root or stat.pgrp == root}
    todo = list(chosen)
    while todo:
        for child in children.get(todo.pop(), []):
            if child.pid not in chosen:
                chosen[child.pid] = child
                todo.append(child.pid)
    return list(chosen.values())


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of `root`, its process group and its descendants (alive)."""
    return sum(stat.cpu_ticks for stat in _tree(root)) / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(root: int) -> float:
    """Resident memory of the same set of processes, in MiB."""
    pages = sum(stat.rss_pages for stat in _tree(root))
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
