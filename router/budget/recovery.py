"""Finishing what a journal left open: after a crash, and after a store outage (fail open).

A journal left by a dead process (`journal.orphaned`) is replayed once, by whichever process on
the same host starts next:

- a reservation whose request ended (`c`) is settled at the request's cost (its ledger record is
  in the ledger spool, replayed by the ledger writer);
- a reservation whose request never ended (the process died during it) is settled at what it
  held, and a ledger record with status `interrupted` and that cost is written: the upstream may
  have billed the request and nobody can know how much, so the reservation, an upper bound, is
  what both the counters and the ledger keep. They agree;
- a request admitted while the store was down (`open`) is counted now (`reconcile`).

Replay has to happen before the lease ends to settle at the real cost; after it, `expire` has
already counted the reservation at what it held, and the counters keep that upper bound.

`reconcile` adds spend the store never saw to each budget of the request, one scope at a time
(a zero reservation settled at the cost, in the period the request was made). A budget already
past its limit refuses even that; the spend is then logged and left to the ledger.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from router.budget.journal import orphaned, read_entries
from router.store.base import LedgerRecord, Store

log = logging.getLogger("tokenwise.budget")

ZERO = Decimal(0)
RECONCILE_LEASE = 60.0


@dataclass
class Open:
    """One request's journal entries, folded."""

    pending: dict[str, Any]
    granted: Decimal | None = None
    cost: Decimal | None = None
    done: bool = False

    @property
    def request_id(self) -> str:
        return str(self.pending["id"])

    @property
    def is_open(self) -> bool:
        return bool(self.pending.get("open"))

    @property
    def scopes(self) -> list[str]:
        return [str(s) for s in self.pending.get("scopes", ())]


def fold(entries: Iterable[Mapping[str, Any]]) -> dict[str, Open]:
    found: dict[str, Open] = {}
    for entry in entries:
        rid, kind = str(entry["id"]), entry.get("t")
        if kind == "p":
            found[rid] = Open(dict(entry))
            continue
        item = found.get(rid)
        if item is None:
            continue
        if kind == "r":
            item.granted = Decimal(str(entry["granted"]))
        elif kind == "c":
            item.cost = Decimal(str(entry["cost"]))
        elif kind == "o":
            item.pending["open"] = True
        elif kind == "s":
            item.done = True
    return found


def interrupted(item: Open, cost: Decimal) -> LedgerRecord:
    p = item.pending
    return LedgerRecord(
        ts=float(p.get("ts", time.time())),
        request_id=str(p.get("req") or item.request_id),
        team=str(p.get("team", "")),
        key_id=p.get("key"),
        user=p.get("user"),
        requested_model=str(p.get("requested", "")),
        routed_model=str(p.get("model", "")),
        provider=str(p.get("provider", "")),
        cost_total=cost,
        estimated=True,
        status="interrupted",
    )


async def reconcile(store: Store, item: Open, cost: Decimal) -> None:
    """Count `cost`, spent while the store was down, in every budget of the request."""
    now = time.time()
    ts = float(item.pending.get("ts", now))
    for i, scope in enumerate(item.scopes):
        rid = f"{item.request_id}~{i}"
        try:
            result = await store.reserve(
                rid, [scope], ZERO, max(0.0, now - ts) + RECONCILE_LEASE, ts, minimum=ZERO
            )
        except ValueError:  # reserved by an earlier attempt that did not get to settle
            await store.settle(rid, cost, now)
            continue
        if result.ok:
            await store.settle(rid, cost, now)
        else:
            log.warning(
                "budget: %s spent $%s while the store was down and is already past its limit; "
                "the ledger keeps the spend, the counter does not",
                scope,
                cost,
            )


async def finish(store: Store, item: Open, record: Callable[[LedgerRecord], None]) -> None:
    """Settle or reconcile one request a dead process left open."""
    if item.is_open:
        cost = item.cost if item.cost is not None else Decimal(str(item.pending["amount"]))
        await reconcile(store, item, cost)
        if item.cost is None:
            record(interrupted(item, cost))
        return
    held = item.granted if item.granted is not None else Decimal(str(item.pending["amount"]))
    cost = item.cost if item.cost is not None else held
    settled = await store.settle(item.request_id, cost, time.time())
    if item.cost is not None:
        return  # the request's own ledger record is in the ledger spool
    # Settled now, or (a budgeted reservation that was granted) settled by `expire` already.
    if settled or (item.granted is not None and item.pending.get("budgeted")):
        record(interrupted(item, held))


async def replay_orphans(
    store: Store, directory: Path, own: Path, record: Callable[[LedgerRecord], None]
) -> int:
    """Finish every journal a dead process left in `directory`; how many requests were open."""
    finished = 0
    for path, fd in orphaned(directory, own):
        try:
            entries, bad = read_entries(path)
            if bad:
                log.warning("budget journal %s: %d unreadable line(s) skipped", path, bad)
            for item in fold(entries).values():
                if not item.done:
                    await finish(store, item, record)
                    finished += 1
            path.unlink()
        finally:
            os.close(fd)
    if finished:
        log.warning("budget: finished %d request(s) left open by a stopped process", finished)
    return finished
