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

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from router import owned_file
from router.owned_file import OwnedFile, fresh_name, lock_for_append, write_all

COMPACT_BYTES = 4 * 1024 * 1024
PREFIX = "journal"

log = logging.getLogger("tokenwise.budget")


class Journal(OwnedFile):
    kind = "budget journal"
    without = (
        "reservations made meanwhile are not recovered after a crash "
        "(their lease ends and they count at what they held)"
    )

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, PREFIX)
        self._size = 0

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps(entry) + b"\n"
        if self.append_line(line):
            self._size += len(line)

    @property
    def wants_compaction(self) -> bool:
        return self._size > COMPACT_BYTES

    def compact(self, live: Iterable[dict[str, Any]]) -> bool:
        """Start a fresh file holding only `live`; every live entry stays in a locked file. When
        the disk refuses the fresh file, the current one stays (and grows): False."""
        fresh = self.directory / fresh_name(PREFIX)
        temporary = self.directory / ("tmp-" + fresh.name)
        data = b"".join(orjson.dumps(entry) + b"\n" for entry in live)
        fd = -1
        try:
            fd = lock_for_append(temporary)
            write_all(fd, data)
            os.rename(temporary, fresh)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            temporary.unlink(missing_ok=True)
            log.warning("budget journal %s: not compacted (%s)", self.path, exc)
            return False
        old_fd, old_path = self._fd, self.path
        self._fd, self.path, self._size = fd, fresh, len(data)
        old_path.unlink(missing_ok=True)
        os.close(old_fd)
        return True


def orphaned(directory: Path, own: Path | None = None) -> Iterator[tuple[Path, int]]:
    """Journal files whose owner is gone, each locked: (path, fd). The caller closes the fd."""
    return owned_file.orphaned(directory, PREFIX, own)


def _entry(line: bytes) -> dict[str, Any] | None:
    entry = orjson.loads(line)
    return entry if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None


def read_entries(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The entries of a journal file and how many lines were unreadable (a torn last line)."""
    return owned_file.read_lines(path, _entry)
