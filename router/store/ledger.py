"""Selecting and totalling ledger records (pure; every backend shares it).

Totals are summed here in exact decimals over the selected records rather than in the database,
because neither SQLite nor Redis adds decimals exactly. That costs one pass over the rows of the
period asked for, which suits the command line and the admin API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime

from router.store.base import ZERO, GroupBy, LedgerRecord, LedgerTotal

SUMMED = tuple(f.name for f in fields(LedgerTotal) if f.name not in ("key", "requests", "savings"))


def in_range(ts: float, since: float | None, until: float | None) -> bool:
    return (since is None or ts >= since) and (until is None or ts < until)


def select(
    records: Iterable[LedgerRecord],
    team: str | None,
    since: float | None,
    until: float | None,
    limit: int | None,
) -> list[LedgerRecord]:
    """Records in time order (ties by request id); `limit` keeps the latest ones."""
    chosen = sorted(
        (r for r in records if (team is None or r.team == team) and in_range(r.ts, since, until)),
        key=lambda r: (r.ts, r.request_id),
    )
    return chosen if limit is None else chosen[max(0, len(chosen) - limit) :]


def group_key(record: LedgerRecord, group_by: GroupBy) -> str:
    if group_by == "team":
        return record.team
    if group_by == "model":
        return record.routed_model
    return datetime.fromtimestamp(record.ts, UTC).date().isoformat()


def totals(records: Iterable[LedgerRecord], group_by: GroupBy) -> list[LedgerTotal]:
    groups: dict[str, LedgerTotal] = {}
    for record in records:
        key = group_key(record, group_by)
        current = groups.get(key) or LedgerTotal(key)
        sums = {name: getattr(current, name) + getattr(record, name) for name in SUMMED}
        groups[key] = replace(
            current,
            requests=current.requests + 1,
            savings=current.savings + (record.savings or ZERO),
            **sums,
        )
    return [groups[k] for k in sorted(groups)]


def check_group_by(group_by: str) -> GroupBy:
    if group_by not in ("team", "model", "day"):
        raise ValueError(f"ledger totals group by team, model or day, not {group_by!r}")
    return group_by  # type: ignore[return-value]  # checked just above


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise ValueError("ledger query: limit must be >= 0")


def new_records(records: Sequence[LedgerRecord]) -> list[LedgerRecord]:
    """The batch without repeated request ids (the first of each wins)."""
    seen: set[str] = set()
    kept = []
    for record in records:
        if record.request_id not in seen:
            seen.add(record.request_id)
            kept.append(record)
    return kept
