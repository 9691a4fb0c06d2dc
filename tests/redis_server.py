"""A real `redis-server` for the tests, on a free loopback port, with nothing written to disk.

Register with `pytest_plugins = ["tests.redis_server"]` in tests/conftest.py; tests then ask
for `redis_url`. The server is started once per session and killed at the end. Without
`redis-server` on PATH the fixture fails (it never skips): CI must run the Redis tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port, stop_process

START_TIMEOUT = 10.0


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start(exe: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server and wait for PING; retry on another port if the port was taken."""
    log = workdir / "redis.log"
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if answers_ping(port):
                return proc, port
            time.sleep(0.02)
        proc.kill()
        proc.wait()
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    pytest.fail(f"redis-server did not answer PING on 127.0.0.1; its log:\n{tail}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(
            "redis-server is not on PATH: run scripts/setup to install it "
            "(the Redis tests never skip; CI installs it)"
        )
    proc, port = start(exe, tmp_path_factory.mktemp("redis"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(proc, timeout=5)
