"""The budget journal on disk, and what a process does with one its owner left behind."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path

from router.budget.journal import Journal, orphaned, read_entries
from router.budget.recovery import fold, replay_orphans
from router.store.base import BudgetRecord, LedgerRecord, TeamRecord
from router.store.memory import MemoryStore
from tests.processes import run_script

D = Decimal


def pending(rid: str, amount: str, **extra: object) -> dict[str, object]:
    return {
        "t": "p",
        "id": rid,
        "ts": time.time(),
        "req": rid,
        "team": "research",
        "key": "k1",
        "scopes": ["team:research", "key:k1"],
        "amount": amount,
        "budgeted": True,
        "model": "sim-small",
        "provider": "sim",
        **extra,
    }


def test_a_live_journal_is_not_an_orphan_and_compaction_keeps_live_entries(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    journal.open()
    journal.write(pending("a", "1"))
    journal.write({"t": "s", "id": "a"})
    journal.write(pending("b", "2"))
    assert list(orphaned(tmp_path)) == []
    old = journal.path
    journal.compact([pending("b", "2")])
    assert not old.exists() and journal.path.exists()
    entries, bad = read_entries(journal.path)
    assert [e["id"] for e in entries] == ["b"] and bad == 0
    journal.write({"t": "s", "id": "b"})
    journal.close(remove=False)
    found = list(orphaned(tmp_path))
    assert [p for p, _ in found] == [journal.path]
    for _, fd in found:
        os.close(fd)


# Compaction on a disk that refuses the fresh file: RLIMIT_FSIZE, in a child process (the
# limit would apply to every file this process writes), cuts the fresh file short.
REFUSED_COMPACTION = """
import json, os, resource, sys
from pathlib import Path
from router.budget.journal import Journal, read_entries

journal = Journal(Path(sys.argv[1]))
journal.open()
entries = [{"t": "p", "id": f"r{n}", "pad": "x" * 100} for n in range(5)]
for entry in entries:
    journal.write(entry)
path = journal.path
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (200, hard))
compacted = journal.compact(entries[3:])
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
kept, bad = read_entries(journal.path)
print(json.dumps({"compacted": compacted, "same_file": journal.path == path,
                  "ids": [e["id"] for e in kept], "bad": bad,
                  "files": sorted(os.listdir(sys.argv[1]))}))
"""


def test_a_compaction_the_disk_refuses_keeps_the_journal_it_had(tmp_path: Path) -> None:
    done = run_script(REFUSED_COMPACTION, str(tmp_path))
    outcome = json.loads(done.stdout)
    assert outcome["compacted"] is False and outcome["same_file"] is True
    assert outcome["ids"] == ["r0", "r1", "r2", "r3", "r4"] and outcome["bad"] == 0
    assert len(outcome["files"]) == 1  # no temporary file left behind
    assert b"not compacted" in done.stderr


def test_fold_and_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "journal-1-x.jsonl"
    path.write_bytes(
        b'{"t":"p","id":"a","amount":"1"}\n{"t":"r","id":"a","granted":"0.5"}\n'
        b'{"t":"c","id":"a","cost":"0.1"}\n{"t":"o","id":"b"}\n{"t":"p","id":"c","amo'
    )
    entries, bad = read_entries(path)
    assert bad == 1
    folded = fold(entries)
    assert set(folded) == {"a"}  # an entry for an unknown id is ignored
    a = folded["a"]
    assert (a.granted, a.cost, a.done, a.is_open) == (D("0.5"), D("0.1"), False, False)


async def test_replay_settles_what_a_dead_process_held_and_the_ledger_agrees(
    tmp_path: Path,
) -> None:
    store = await MemoryStore().open()
    now = time.time()
    await store.put_team(TeamRecord("research", now))
    await store.put_budget(BudgetRecord("team:research", D(10), window="day"))
    for rid in ("ended", "interrupted", "asked"):
        assert (await store.reserve(rid, ["team:research"], D(1), 600, now)).ok
    dead = Journal(tmp_path)
    dead.open()
    dead.write(pending("ended", "1"))
    dead.write({"t": "r", "id": "ended", "granted": "1"})
    dead.write({"t": "c", "id": "ended", "cost": "0.25"})
    dead.write(pending("interrupted", "1"))
    dead.write({"t": "r", "id": "interrupted", "granted": "1"})
    dead.write(pending("asked", "1"))  # died before hearing back from the store
    dead.write(pending("refused", "1"))
    dead.write({"t": "s", "id": "refused"})
    dead.write(pending("offline", "0.5"))
    dead.write({"t": "o", "id": "offline"})
    dead.write({"t": "c", "id": "offline", "cost": "0.125"})
    dead.close(remove=False)  # the process is gone; its file stays

    records: list[LedgerRecord] = []
    live = Journal(tmp_path)
    live.open()
    finished = await replay_orphans(store, tmp_path, live.path, records.append)
    assert finished == 4
    view = await store.spend("team:research", time.time())
    assert view is not None
    assert view.in_flight == 0
    assert view.settled == D("0.25") + D(1) + D(1) + D("0.125")
    assert sorted((r.request_id, r.cost_total, r.status) for r in records) == [
        ("asked", D(1), "interrupted"),
        ("interrupted", D(1), "interrupted"),
    ]
    assert [p for p, _ in orphaned(tmp_path, live.path)] == []  # replayed once
    live.close(remove=True)
