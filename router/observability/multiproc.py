"""Metrics across several worker processes (prometheus_client's multiprocess mode).

Worker processes share the listening port, so a scrape reaches one of them at random: each
worker's own registry would show only its share. In multiprocess mode every worker writes its
samples to memory-mapped files in one directory (`PROMETHEUS_MULTIPROC_DIR`) and any worker's
`/metrics` reads and merges all of them: counters and histograms are summed over processes
(also over workers that have exited), the in-flight and backlog gauges over live processes
only (a worker that died without its clean exit is forgotten at the next scrape). The budget
gauge is not kept in files: the worker that answers a scrape reads it from the store then.

prometheus_client decides at import whether values go to files, from that environment variable,
so it must be set before the workers start: `tokenwise serve --workers N` sets it to
`$TOKENWISE_HOME/metrics` (or keeps the operator's own value) and empties the directory first,
since files left by an earlier run would be counted again. The directory is locked for the
server's lifetime, so a second server on the same home takes a directory of its own.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

ENV = "PROMETHEUS_MULTIPROC_DIR"
DIR_NAME = "metrics"


class DirectoryInUse(Exception):
    """The operator's `PROMETHEUS_MULTIPROC_DIR` belongs to another running server."""


_HELD: list[int] = []  # the locks of the directories this process uses, held until it exits


def prepare_multiprocess_dir(home: Path, env: MutableMapping[str, str]) -> Path:
    """Choose the directory (set `env[ENV]` when unset), lock it for this server's lifetime,
    create it, and empty it.

    Another server on the same home (a second replica started from the same folder) holds
    `metrics`: this one takes `metrics-2`, `metrics-3`... (emptying a live server's files
    would lose its counts and show it this one's). The operator's own directory is used as
    given, or refused (DirectoryInUse) while another server holds it."""
    given = env.get(ENV)
    if given:
        path = Path(given).absolute()
        if not _lock(path):
            raise DirectoryInUse(
                f"{ENV}={path} is in use by another running tokenwise serve: give each "
                "server its own directory"
            )
    else:
        path = (home / DIR_NAME).absolute()
        number = 1
        while not _lock(path):
            number += 1
            path = (home / f"{DIR_NAME}-{number}").absolute()
    _empty(path)
    env[ENV] = str(path)
    return path


def _lock(path: Path) -> bool:
    """Take `path`'s lock file (beside it) for this process's lifetime; False when another
    live process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _HELD.append(fd)
    return True


def _empty(path: Path) -> None:
    if path.is_dir():
        for entry in path.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)


def multiprocess_dir(env: Mapping[str, str]) -> Path | None:
    value = env.get(ENV)
    return Path(value) if value else None


def check_multiprocess_values(path: Path) -> None:
    """Fail loudly when the files would stay empty (the variable came too late)."""
    if values.ValueClass is values.MutexValue:
        raise RuntimeError(
            f"{ENV}={path} but prometheus_client was imported before it was set, so this "
            "process keeps its metrics in memory: set it in the environment before starting"
        )
    if not path.is_dir():
        raise RuntimeError(f"{ENV}={path} is not a directory: create it before starting")


_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


def forget_dead(path: Path) -> list[int]:
    """Forget the live gauges of workers that died without their clean exit (killed, crashed:
    the supervisor starts another): without this, what they had in flight would count for
    ever. The processes forgotten."""
    dead = set()
    for entry in os.listdir(path):
        found = _LIVE_FILE.fullmatch(entry)
        if found is not None and not _alive(int(found.group(1))):
            dead.add(int(found.group(1)))
    for pid in sorted(dead):
        forget_process(path, pid)
    return sorted(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the number now; it is alive
    return True


def collect_dir(path: Path) -> CollectorRegistry:
    forget_dead(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return registry


def forget_process(path: Path, pid: int | None = None) -> None:
    """A worker stops: its live gauges (in flight, backlog) no longer count."""
    mark_process_dead(os.getpid() if pid is None else pid, str(path))  # type: ignore[no-untyped-call]
