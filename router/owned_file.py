"""A file one process owns for its lifetime: appended to, one JSON line at a time, under an
exclusive `flock`, and taken over by another process once its owner is gone.

Each process writes its own `<prefix>-<pid>-<random>.jsonl` in a shared directory. A line is
one `write` on an `O_APPEND` descriptor, so what was written survives `kill -9`. A file whose
lock can be taken has no live owner (`orphaned`): the taker replays it and deletes it. The
ledger spool (`router.ledger.spool`) and the budget journal (`router.budget.journal`) are such
files.

A disk that refuses a line (full, over quota, read-only, an I/O error) never fails the request
that wrote it: `append_line` returns False, counts it in `write_errors`, and logs once when
writes start failing and once when they work again. The caller keeps the data in memory, so
only crash safety is lost meanwhile. A line cut short by a full disk stays alone: the next one
starts on a fresh line, and replay skips the torn one as unreadable.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("tokenwise.files")


def write_all(fd: int, data: bytes) -> None:
    """One `write` of `data`; OSError when the disk takes only part of it (a full disk)."""
    written = os.write(fd, data)
    if written < len(data):
        raise OSError(f"{written} of {len(data)} bytes written")


def fresh_name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{os.urandom(4).hex()}.jsonl"


def lock_for_append(path: Path) -> int:
    """Open `path` for appending (created 0600) and hold an exclusive lock on it: the fd.
    `BlockingIOError` when another process holds the lock."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        raise
    return fd


class OwnedFile:
    """This process's file in `directory`; `open` creates and locks it. `kind` names it in logs
    and `without` says what is lost while the disk refuses it."""

    kind = "file"
    without = "nothing is crash-safe"

    def __init__(self, directory: Path, prefix: str) -> None:
        self.directory = directory
        self.path = directory / fresh_name(prefix)
        self._fd = -1
        self.write_errors = 0  # lines the disk refused since start
        self.on_refused: Callable[[], None] | None = None  # counts a refusal (a metric)
        self._failing = 0  # refused in a row; the last one may be on disk in part

    def append_line(self, line: bytes) -> bool:
        """Append `line` (ending in a newline) with one `write`; False when the disk refuses it
        (see the module docstring)."""
        try:
            write_all(self._fd, b"\n" + line if self._failing else line)
        except OSError as exc:
            return self._refused(exc)
        if self._failing:
            log.warning(
                "%s %s: writes work again (%d refused)", self.kind, self.path, self._failing
            )
            self._failing = 0
        return True

    def _refused(self, exc: OSError) -> bool:
        self.write_errors += 1
        if self.on_refused is not None:
            self.on_refused()
        if not self._failing:
            log.error("%s %s: write failed (%s); %s", self.kind, self.path, exc, self.without)
        self._failing += 1
        return False

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fd = lock_for_append(self.path)

    def close(self, *, remove: bool) -> None:
        if self._fd >= 0:
            if remove:
                self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = -1


def orphaned(directory: Path, prefix: str, own: Path | None = None) -> Iterator[tuple[Path, int]]:
    """The `prefix` files in `directory` whose owner is gone, each locked: (path, fd), in name
    order, `own` left out. The caller closes the fd."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(f"{prefix}-*.jsonl")):
        if own is not None and path == own:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue  # removed by its live owner since the listing
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # a live process owns it
            continue
        yield path, fd


def read_lines(path: Path, parse: Callable[[bytes], T | None]) -> tuple[list[T], int]:
    """What `parse` makes of each non-blank line of `path`, and how many lines it could not
    read (it raised ValueError, TypeError or KeyError, or returned None): a torn last line."""
    items: list[T] = []
    bad = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            item = parse(line)
        except (ValueError, TypeError, KeyError):
            bad += 1
            continue
        if item is None:
            bad += 1
        else:
            items.append(item)
    return items, bad
