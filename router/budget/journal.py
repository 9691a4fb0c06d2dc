"""The budget journal: what this process reserved and spent, on disk before the store knows.

Each process appends to its own file under `$TOKENWISE_HOME/budget/` and holds an exclusive
`flock` on it for its lifetime (as the ledger spool does). One JSON line per event, written with
a single `write` on an `O_APPEND` descriptor, so the lines survive `kill -9`:

    {"t": "p", "id", "ts", "scopes", "amount", "budgeted", ...}  about to reserve
    {"t": "r", "id", "granted"}                              the store holds `granted`
    {"t": "o", "id"}                                         the store was down: admitted without
                                                             a reservation (budgets fail open)
    {"t": "c", "id", "cost"}                                 the request ended costing `cost`
    {"t": "s", "id"}                                         nothing left to do for it

A live process compacts its file once it passes `COMPACT_BYTES`: the entries of unfinished
requests move to a fresh file. A process that finds a file whose lock it can take knows its
owner is gone and replays it (`router.budget.recovery`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

COMPACT_BYTES = 4 * 1024 * 1024
PATTERN = "journal-*.jsonl"


def _name() -> str:
    return f"journal-{os.getpid()}-{os.urandom(4).hex()}.jsonl"


def _locked(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / _name()
        self._fd = -1
        self._size = 0

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fd = _locked(self.path)

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps(entry) + b"\n"
        os.write(self._fd, line)
        self._size += len(line)

    @property
    def wants_compaction(self) -> bool:
        return self._size > COMPACT_BYTES

    def compact(self, live: Iterable[dict[str, Any]]) -> None:
        """Start a fresh file holding only `live`; every live entry stays in a locked file."""
        fresh = self.directory / _name()
        fd = _locked(self.directory / ("tmp-" + fresh.name))
        data = b"".join(orjson.dumps(entry) + b"\n" for entry in live)
        os.write(fd, data)
        os.rename(self.directory / ("tmp-" + fresh.name), fresh)
        old_fd, old_path = self._fd, self.path
        self._fd, self.path, self._size = fd, fresh, len(data)
        old_path.unlink(missing_ok=True)
        os.close(old_fd)

    def close(self, *, remove: bool) -> None:
        if self._fd >= 0:
            if remove:
                self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = -1


def orphaned(directory: Path, own: Path | None = None) -> Iterator[tuple[Path, int]]:
    """Journal files whose owner is gone, each locked: (path, fd). The caller closes the fd."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(PATTERN)):
        if own is not None and path == own:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # compacted away by its live owner
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        yield path, fd


def read_entries(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The entries of a journal file and how many lines were unreadable (a torn last line)."""
    entries: list[dict[str, Any]] = []
    bad = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            entries.append(entry)
        else:
            bad += 1
    return entries, bad
