"""A local append-only spool: a ledger record is on disk before the store has it.

Each process writes its own file under `$TOKENWISE_HOME/spool/` and holds an exclusive `flock`
on it for its lifetime. A record is one JSON line, appended with a single `write` on an
`O_APPEND` descriptor, so a killed process leaves every record it wrote in the kernel's hands
(the file survives `kill -9`). At start-up a process replays every spool file whose lock it can
take (its owner is gone). The store ignores a request id it already has, so replay is safe.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from router.store.base import LedgerRecord
from router.store.codec import dumps_bytes, loads


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / f"ledger-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
        self._fd = -1

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def append(self, record: LedgerRecord) -> None:
        os.write(self._fd, dumps_bytes(record) + b"\n")

    def truncate(self) -> None:
        """Everything spooled so far is in the store."""
        os.ftruncate(self._fd, 0)

    def close(self, *, remove: bool) -> None:
        if self._fd >= 0:
            if remove:
                self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = -1


def orphaned(directory: Path, own: Path | None = None) -> Iterator[tuple[Path, int]]:
    """Spool files whose owner is gone, each locked: (path, fd). The caller closes the fd."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("ledger-*.jsonl")):
        if own is not None and path == own:
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # a live process owns it
            continue
        yield path, fd


def read_records(path: Path) -> tuple[list[LedgerRecord], int]:
    """The records in a spool file, and how many lines could not be read (a torn last line)."""
    records: list[LedgerRecord] = []
    bad = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            records.append(loads(LedgerRecord, line))
        except (ValueError, TypeError, KeyError):
            bad += 1
    return records, bad
