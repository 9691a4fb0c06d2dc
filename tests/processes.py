"""The child processes the tests start: a free port and a clean stop for servers on loopback,
and a Python script run to completion from the repository root."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port free at the time of asking (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask the process to end (SIGTERM) and wait; past `timeout` seconds, kill it."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`python -c script args` from the repository root, to completion (a non-zero exit
    raises); stdout and stderr captured. For what must not touch the test process itself,
    such as a resource limit."""
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, check=True, cwd=REPOSITORY
    )
