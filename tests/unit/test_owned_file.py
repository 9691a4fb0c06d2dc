"""Files a process owns while it lives: locked while open, taken over once the owner is gone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from router.owned_file import OwnedFile, orphaned, read_lines
from tests.processes import run_script


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


# A disk that refuses a line. RLIMIT_FSIZE plays the full disk: the kernel writes up to the
# limit (a short write) and then refuses with EFBIG. It runs in a child process, since the
# limit would apply to every file this process writes.
REFUSING_DISK = """
import json, resource, sys
from pathlib import Path
from router.owned_file import OwnedFile, read_lines

owned = OwnedFile(Path(sys.argv[1]), "spool")
owned.open()
line = b'{"n": 0, "pad": "' + b"x" * 40 + b'"}\\n'
results = [owned.append_line(line)]
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (len(line) + 20, hard))  # room for 20 more bytes
results += [owned.append_line(line.replace(b"0", str(n).encode())) for n in (1, 2)]
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
results.append(owned.append_line(line.replace(b"0", b"3")))
items, bad = read_lines(owned.path, json.loads)
print(json.dumps({"results": results, "errors": owned.write_errors,
                  "read": [item["n"] for item in items], "bad": bad}))
"""


def test_a_refused_line_is_counted_and_a_torn_one_stays_alone(tmp_path: Path) -> None:
    done = run_script(REFUSING_DISK, str(tmp_path))
    outcome = json.loads(done.stdout)
    # line 1 is cut short at the limit, line 2 refused; line 3 starts on a fresh line
    assert outcome == {"results": [True, False, False, True], "errors": 2, "read": [0, 3], "bad": 1}
    assert b"write failed" in done.stderr and b"writes work again (2 refused)" in done.stderr
