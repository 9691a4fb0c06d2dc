"""Ledger records leave the response path at once and reach the store soon after, never lost.

`record()` is synchronous and cheap: the record is appended to this process's spool file and
queued. A background task writes queued records to the store in batches; when the store is
down it keeps them (they are already on disk) and retries with backoff. When the queue is empty
and everything spooled is stored, the spool file is truncated. At start-up, spool files left by
dead processes are replayed into the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from router.ledger.spool import Spool, orphaned, read_records
from router.store.base import LedgerRecord, Store

log = logging.getLogger("tokenwise.ledger")

BATCH = 256
MAX_BACKOFF = 5.0
LINGER = 0.05  # seconds a woken writer waits so that one store write carries many records


class LedgerWriter:
    def __init__(self, store: Store, spool_dir: Path) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self._pending: list[LedgerRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.written = 0
        self.failures = 0

    async def start(self) -> int:
        """Open this process's spool, replay what dead processes left; return records replayed."""
        self.spool.open()
        replayed = await self.replay_orphans()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ledger-writer")
        return replayed

    async def replay_orphans(self) -> int:
        replayed = 0
        for path, fd in orphaned(self.spool.directory, own=self.spool.path):
            try:
                records, bad = read_records(path)
                if bad:
                    log.warning("ledger spool %s: %d unreadable line(s) skipped", path, bad)
                if records:
                    replayed += await self.store.append_ledger(records)
                path.unlink()
            finally:
                os.close(fd)
        if replayed:
            log.warning("ledger: replayed %d record(s) left by a stopped process", replayed)
        return replayed

    def record(self, record: LedgerRecord) -> None:
        self.spool.append(record)
        self._pending.append(record)
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            await self._wake.wait()
            if not self._closing:
                await asyncio.sleep(LINGER)
            self._wake.clear()
            while self._pending:
                batch = self._pending[:BATCH]
                try:
                    await self.store.append_ledger(batch)
                except Exception as exc:  # the store is down: records stay spooled and queued
                    self.failures += 1
                    log.warning("ledger: store write failed (%s); retrying in %.1fs", exc, backoff)
                    if self._closing:
                        return
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                backoff = 0.1
                del self._pending[: len(batch)]
                self.written += len(batch)
            self.spool.truncate()
            if self._closing:
                return

    async def flush(self, seconds: float = 10.0) -> bool:
        """Wait until every queued record is in the store (or `seconds`); True when drained."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._pending and loop.time() < deadline:
            self._wake.set()
            await asyncio.sleep(0.01)
        return not self._pending

    async def close(self, seconds: float = 10.0) -> None:
        drained = await self.flush(seconds)
        self._closing = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Records the store never took stay in the spool file, replayed at the next start.
        self.spool.close(remove=drained)
