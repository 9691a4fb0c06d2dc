"""The spend ledger in Redis: a hash of JSON records by request id, indexed by time.

`{tw:ledger}:rec` maps request id -> record; `{tw:ledger}:ts` and `{tw:ledger}:team:<name>` are
sorted sets scored by time. All of it shares one hash tag, so a batch is one atomic script that
writes each new record with its indexes and skips ids already there; it rides on the next
settlement's round trip (`redis_rides`). Records are kept until someone deletes them; size
Redis's memory for the ledger's retention or use SQLite for history.
"""

from __future__ import annotations

from collections.abc import Sequence

from router.store import codec, ledger
from router.store.base import GroupBy, LedgerRecord, LedgerTotal
from router.store.redis_principals import RedisPrincipals, guarded, texts
from router.store.redis_rides import Rides

BATCH = 500


class RedisLedger(RedisPrincipals):
    _append_sha: str
    _rides: Rides  # RedisStore's: a batch goes with the next settlement's round trip

    def _ledger(self, name: str) -> str:
        return "{" + self.prefix + ":ledger}:" + name

    @guarded
    async def append_ledger(self, records: Sequence[LedgerRecord]) -> int:
        fresh = ledger.new_records(records)
        added = 0
        for at in range(0, len(fresh), BATCH):
            batch = fresh[at : at + BATCH]
            keys = [self._ledger("rec"), self._ledger("ts")]
            keys += [self._ledger(f"team:{r.team}") for r in batch]
            args = [part for r in batch for part in (r.request_id, repr(r.ts), codec.dumps(r))]
            added += int(await self._rides.wait(self._append_sha, keys, args))
        return added

    @guarded
    async def query_ledger(
        self,
        team: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[LedgerRecord]:
        ledger.check_limit(limit)
        if limit == 0:
            return []
        index = self._ledger("ts" if team is None else f"team:{team}")
        low = "-inf" if since is None else repr(since)
        high = "+inf" if until is None else "(" + repr(until)
        if limit is None:
            ids = texts(await self.client.zrangebyscore(index, low, high))
        else:
            ids = texts(await self.client.zrevrangebyscore(index, high, low, start=0, num=limit))
            ids.reverse()
        records = []
        for at in range(0, len(ids), BATCH):
            rows = await self.client.hmget(self._ledger("rec"), ids[at : at + BATCH])
            records += [codec.loads(LedgerRecord, row) for row in rows if row is not None]
        return records

    @guarded
    async def ledger_totals(
        self, group_by: GroupBy, since: float | None = None, until: float | None = None
    ) -> list[LedgerTotal]:
        group = ledger.check_group_by(group_by)
        return ledger.totals(await self.query_ledger(None, since, until), group)
