"""Metrics across several worker processes (prometheus_client's multiprocess mode).

Worker processes share the listening port, so a scrape reaches one of them at random: each
worker's own registry would show only its share. In multiprocess mode every worker writes its
samples to memory-mapped files in one directory (`PROMETHEUS_MULTIPROC_DIR`) and any worker's
`/metrics` reads and merges all of them: counters and histograms are summed over processes
(also over workers that have exited), the in-flight and backlog gauges over live processes
only, the budget gauge takes the most recent value.

prometheus_client decides at import whether values go to files, from that environment variable,
so it must be set before the workers start: `tokenwise serve --workers N` sets it to
`$TOKENWISE_HOME/metrics` (or keeps the operator's own value) and empties the directory first,
since files left by an earlier run would be counted again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

ENV = "PROMETHEUS_MULTIPROC_DIR"
DIR_NAME = "metrics"


def prepare_multiprocess_dir(home: Path, env: MutableMapping[str, str]) -> Path:
    """Choose the directory (set `env[ENV]` when unset), create it, and empty it."""
    path = Path(env.get(ENV) or home / DIR_NAME).absolute()
    if path.is_dir():
        for entry in path.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)
    env[ENV] = str(path)
    return path


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


def collect_dir(path: Path) -> CollectorRegistry:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return registry


def forget_process(path: Path, pid: int | None = None) -> None:
    """A worker stops: its live gauges (in flight, backlog) no longer count."""
    mark_process_dead(os.getpid() if pid is None else pid, str(path))  # type: ignore[no-untyped-call]
