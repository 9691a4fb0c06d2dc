"""`tokenwise spend`: what the ledger says was spent, by team, routed model or UTC day.

    tokenwise spend [--by team|model|day] [--since DATE] [--until DATE] [--json|--csv]
                    [--config FILE] [--url URL]

Without `--url` the command reads the configured store directly (by default the SQLite file
under `$TOKENWISE_HOME`); with `--url` it asks a running server (`GET /admin/spend`) with the
master key from `$TOKENWISE_MASTER_KEY`. Bounds are ISO dates or times (UTC unless they carry an
offset) or epoch seconds; `--since` is inclusive, `--until` exclusive, except that a bare date as
`--until` includes that whole day. Amounts are exact decimals (USD); savings are an estimate.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from router.metering.cost import format_usd
from router.store.base import GroupBy, LedgerTotal
from router.store.ledger import check_group_by
from router.store.open import STORE_ERRORS, store_problem

MASTER_KEY_ENV = "TOKENWISE_MASTER_KEY"
LAST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z, the last moment a datetime can hold
COLUMNS = tuple(f.name for f in fields(LedgerTotal) if f.name != "key")
MONEY = frozenset(c for c in COLUMNS if c.startswith("cost_") or c == "savings")
TABLE_COLUMNS = (
    ("requests", "requests"),
    ("input", "input_uncached_tokens"),
    ("cached", "input_cached_tokens"),
    ("cache_write", "cache_write_tokens"),
    ("reasoning", "reasoning_tokens"),
    ("output", "output_tokens"),
    ("cost_usd", "cost_total"),
    ("savings_usd*", "savings"),
)


class SpendError(ValueError):
    """A bad bound, store or answer; the message says what to fix."""


def parse_bound(text: str, *, until: bool = False) -> float:
    """Epoch seconds from an ISO date/time or a number; a bare date `until` ends that day."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not 0 <= seconds <= LAST_EPOCH:  # also NaN and infinities
            raise SpendError(f"{text!r} is out of range: epoch seconds from 0 to {LAST_EPOCH}")
        return seconds
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return (start + timedelta(days=1 if until else 0)).timestamp()
        moment = datetime.fromisoformat(value)
    except OverflowError:  # the day after 9999-12-31
        raise SpendError(f"{text!r} is out of range: dates run to 9999-12-31") from None
    except ValueError:
        raise SpendError(
            f"{text!r} is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][+HH:MM] or epoch "
            "seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def row_dict(total: LedgerTotal, by: GroupBy) -> dict[str, Any]:
    """One total as JSON: amounts as exact decimal strings."""
    row: dict[str, Any] = {by: total.key}
    for name in COLUMNS:
        value = getattr(total, name)
        row[name] = format_usd(value) if name in MONEY else value
    return row


def document(
    totals: Sequence[LedgerTotal], by: GroupBy, since: float | None, until: float | None
) -> dict[str, Any]:
    """What `GET /admin/spend` answers and `--json` prints."""
    return {
        "by": by,
        "since": _iso(since),
        "until": _iso(until),
        "rows": [row_dict(t, by) for t in totals],
        "total": row_dict(grand_total(totals), by) | {by: "TOTAL"},
    }


def from_document(doc: Mapping[str, Any]) -> tuple[GroupBy, list[LedgerTotal]]:
    """The totals in an answer from `GET /admin/spend`."""
    try:
        by = check_group_by(doc["by"])
        totals = []
        for row in doc["rows"]:
            values: dict[str, Any] = {"key": str(row[by])}
            for name in COLUMNS:
                values[name] = Decimal(row[name]) if name in MONEY else int(row[name])
            totals.append(LedgerTotal(**values))
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise SpendError(f"the server's answer is not a spend report: {exc!r}") from None
    return by, totals


def grand_total(totals: Sequence[LedgerTotal]) -> LedgerTotal:
    sums = {name: sum((getattr(t, name) for t in totals), _zero(name)) for name in COLUMNS}
    return LedgerTotal(key="TOTAL", **sums)


def render_table(totals: Sequence[LedgerTotal], by: GroupBy) -> str:
    header = [by, *(title for title, _ in TABLE_COLUMNS)]
    rows = [_cells(t) for t in totals]
    rows.append(_cells(grand_total(totals)))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])]
    out.append("* savings are an estimate (what the model asked for would have cost)")
    return "\n".join(out) + "\n"


def render_csv(totals: Sequence[LedgerTotal], by: GroupBy) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([by, *COLUMNS])
    for total in totals:
        row = row_dict(total, by)
        writer.writerow([row[by], *(row[c] for c in COLUMNS)])
    return buffer.getvalue()


def _cells(total: LedgerTotal) -> list[str]:
    cells = [total.key]
    for _, name in TABLE_COLUMNS:
        value = getattr(total, name)
        cells.append(format_usd(value) if name in MONEY else f"{value:,}")
    return cells


def _zero(name: str) -> Any:
    return Decimal(0) if name in MONEY else 0


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


async def local_totals(
    config: str | None, by: GroupBy, since: float | None, until: float | None
) -> list[LedgerTotal]:
    """Read the configured store directly (no server, no development key created)."""
    from router.config.read import config_path, read_config
    from router.store.open import open_store, sqlite_file

    env = os.environ
    path = config_path(config, env, Path.cwd())
    url = read_config(path).store.url if path is not None else None
    home = Path(env.get("TOKENWISE_HOME") or Path.cwd() / ".tokenwise")
    if url == "memory://":
        raise SpendError("the memory store lives inside the server: ask it with --url")
    file = sqlite_file(url, home)
    if file is not None:
        fresh = url is None and not file.parent.exists()  # a state folder never used
        if not file.parent.is_dir() and not fresh:
            state = "is not a folder" if file.parent.exists() else "does not exist"
            raise SpendError(f"no store at {file}: {file.parent} {state}")
        if not file.exists():
            print(f"tokenwise spend: no store at {file} yet: nothing recorded", file=sys.stderr)
            return []
    store = await open_store(url, home)
    try:
        return await store.ledger_totals(by, since, until)
    finally:
        await store.close()


def remote_totals(
    url: str, key: str, by: GroupBy, since: float | None, until: float | None
) -> list[LedgerTotal]:
    import httpx

    params: dict[str, str] = {"by": by}
    if since is not None:
        params["since"] = repr(since)
    if until is not None:
        params["until"] = repr(until)
    endpoint = url.rstrip("/").removesuffix("/v1") + "/admin/spend"
    try:
        resp = httpx.get(
            endpoint, params=params, headers={"authorization": f"Bearer {key}"}, timeout=30
        )
    except httpx.HTTPError as exc:
        raise SpendError(f"cannot reach {endpoint}: {exc}") from None
    if resp.status_code != 200:
        try:
            message = resp.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = resp.text[:500]
        raise SpendError(f"{endpoint} answered {resp.status_code}: {message}")
    answered_by, totals = from_document(resp.json())
    if answered_by != by:
        raise SpendError(f"{endpoint} grouped by {answered_by}, not {by}")
    return totals


def run_spend(args: argparse.Namespace) -> int:
    try:
        by = check_group_by(args.by)
        since = parse_bound(args.since) if args.since else None
        until = parse_bound(args.until, until=True) if args.until else None
        if since is not None and until is not None and since >= until:
            raise SpendError(f"--since {args.since} is not before --until {args.until}")
        if args.url:
            key = os.environ.get(MASTER_KEY_ENV)
            if not key:
                raise SpendError(f"--url needs the master key in ${MASTER_KEY_ENV}")
            totals = remote_totals(args.url, key, by, since, until)
        else:
            totals = asyncio.run(local_totals(args.config, by, since, until))
    except (SpendError, ValueError, *STORE_ERRORS) as exc:
        print(f"tokenwise spend: {store_problem(exc)}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(orjson.dumps(document(totals, by, since, until)).decode() + "\n")
    elif args.csv:
        sys.stdout.write(render_csv(totals, by))
    else:
        sys.stdout.write(render_table(totals, by))
    return 0
