"""A local append-only spool: a ledger record is on disk before the store has it.

Each process writes its own file under `$TOKENWISE_HOME/spool/` and holds an exclusive `flock`
on it for its lifetime. A record is one JSON line, appended with a single `write` on an
`O_APPEND` descriptor, so a killed process leaves every record it wrote in the kernel's hands
(the file survives `kill -9`). At start-up a process replays every spool file whose lock it can
take (its owner is gone). The store ignores a request id it already has, so replay is safe.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from router import owned_file
from router.owned_file import OwnedFile
from router.store.base import LedgerRecord
from router.store.codec import dumps_bytes, loads

PREFIX = "ledger"

log = logging.getLogger("tokenwise.ledger")


class Spool(OwnedFile):
    kind = "ledger spool"
    without = "records wait in memory for the store, lost if the process dies before"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, PREFIX)

    def append(self, record: LedgerRecord) -> None:
        """Spool one record; a line the disk refuses is counted (`OwnedFile.append_line`), and
        the caller queues the record for the store all the same."""
        self.append_line(dumps_bytes(record) + b"\n")

    def truncate(self) -> None:
        """Everything spooled so far is in the store. A file that cannot be truncated keeps
        its lines: a replay of records the store has writes nothing twice."""
        try:
            os.ftruncate(self._fd, 0)
        except OSError as exc:
            log.warning("ledger spool %s: not truncated (%s)", self.path, exc)


def orphaned(directory: Path, own: Path | None = None) -> Iterator[tuple[Path, int]]:
    """Spool files whose owner is gone, each locked: (path, fd). The caller closes the fd."""
    return owned_file.orphaned(directory, PREFIX, own)


def _record(line: bytes) -> LedgerRecord:
    return loads(LedgerRecord, line)


def read_records(path: Path) -> tuple[list[LedgerRecord], int]:
    """The records in a spool file, and how many lines could not be read (a torn last line)."""
    return owned_file.read_lines(path, _record)
