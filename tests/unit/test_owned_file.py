"""Files a process owns while it lives: locked while open, taken over once the owner is gone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router.owned_file import OwnedFile, orphaned, read_lines


def test_only_files_without_a_live_owner_are_orphans(tmp_path: Path) -> None:
    gone = OwnedFile(tmp_path, "spool")
    gone.open()
    gone.close(remove=False)
    live = OwnedFile(tmp_path, "spool")
    live.open()
    other = OwnedFile(tmp_path, "other")
    other.open()
    other.close(remove=False)
    found = list(orphaned(tmp_path, "spool"))
    assert [path for path, _ in found] == [gone.path]
    for _, fd in found:
        os.close(fd)
    assert list(orphaned(tmp_path, "spool", own=gone.path)) == []
    assert list(orphaned(tmp_path / "missing", "spool")) == []
    live.close(remove=True)
    assert not live.path.exists() and gone.path.exists()


def test_a_locked_file_cannot_be_opened_twice(tmp_path: Path) -> None:
    first = OwnedFile(tmp_path, "spool")
    first.open()
    second = OwnedFile(tmp_path, "spool")
    second.path = first.path
    with pytest.raises(BlockingIOError):
        second.open()
    first.close(remove=True)


def test_read_lines_counts_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "spool-1-x.jsonl"
    path.write_bytes(b"1\n\n  \nskip\n2\nx\n")

    def parse(line: bytes) -> int | None:
        return None if line == b"skip" else int(line)

    assert read_lines(path, parse) == ([1, 2], 2)
